"""Builds the pages' browser bundles (npm packages through esbuild) whenever the package is built or installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# What browser/build.mjs writes into api/pages/static; made at build time, never committed.
OUTPUTS = (
    "site.bundle.js",
    "site.bundle.js.gz",
    "editor.bundle.js",
    "editor.bundle.js.gz",
    "basemap.json",
    "basemap.json.gz",
    "third-party-licenses.txt",
)


class BrowserBundles(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        static = root / "api" / "pages" / "static"
        if not (root / "package.json").is_file():
            # An sdist or a copy without the browser sources: the bundles must already be there.
            missing = [name for name in OUTPUTS if not (static / name).is_file()]
            if missing:
                raise RuntimeError(f"browser bundles missing ({', '.join(missing)}) and no package.json to build them")
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("building smartcity-kg needs Node.js 18+ and npm (for the browser bundles)")
        lock = root / "package-lock.json"
        marker = root / "node_modules" / ".package-lock.json"
        # npm ci only when the installed packages are older than the lock file: a rebuild stays offline and quick.
        if not marker.is_file() or marker.stat().st_mtime < lock.stat().st_mtime:
            subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=root, check=True)
        subprocess.run([npm, "run", "--silent", "build"], cwd=root, check=True)
        build_data["artifacts"].extend(f"api/pages/static/{name}" for name in OUTPUTS)
