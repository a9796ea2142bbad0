"""The checks CI runs around the tests: the coverage floor only rises, and a total far above it asks to raise it."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.coverage_floor import SLACK, floor_of, verdict

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_the_floor_is_no_lower_than_in_any_earlier_commit() -> None:
    floor = floor_of((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert floor is not None, "pyproject.toml sets no coverage floor"
    try:
        if _git("rev-parse", "--is-shallow-repository").strip() == "true":
            pytest.skip("a shallow clone: the earlier commits, and their floors, are not here")
        commits = _git("log", "--format=%H", "--", "pyproject.toml").split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git history here (an unpacked source archive): no earlier floor to compare with")
    earlier = {
        commit: found for commit in commits if (found := floor_of(_git("show", f"{commit}:pyproject.toml"))) is not None
    }
    if not earlier:
        pytest.skip("no earlier commit sets a floor in pyproject.toml")
    highest = max(earlier, key=lambda commit: earlier[commit])
    assert floor >= earlier[highest], f"the coverage floor only rises: commit {highest[:12]} set {earlier[highest]:g}"


@pytest.mark.parametrize(
    ("floor", "total", "fails"),
    [
        (78.0, 78.0, False),
        (78.0, 78.0 + SLACK, False),  # at most SLACK points above: fine
        (78.0, 78.0 + SLACK + 0.44, True),  # more: raise the floor to half the slack below the total
        (78.0, 77.99, True),  # below: what pytest-cov fails on, too
    ],
)
def test_a_total_far_above_the_floor_asks_to_raise_it(floor: float, total: float, fails: bool) -> None:
    problem = verdict(floor, total)
    assert (problem is not None) == fails
    if fails and total > floor:
        raised = math.floor((total - SLACK / 2) * 10) / 10
        assert problem is not None and "raise the floor" in problem and f"to {raised:g};" in problem


def test_the_check_reads_the_floor_and_the_coverage_data_ci_leaves(tmp_path: Path) -> None:
    """As `.ci/run` runs it: from the folder holding pyproject.toml and the `.coverage` the tests wrote."""
    # Four statements of which three run: 75 %.
    (tmp_path / "covered.py").write_text("x = 1\nif x:\n    y = 2\nelse:\n    y = 3\n", encoding="utf-8")

    def check(floor: int) -> subprocess.CompletedProcess[str]:
        (tmp_path / "pyproject.toml").write_text(f"[tool.coverage.report]\nfail_under = {floor}\n", encoding="utf-8")
        return subprocess.run(
            [sys.executable, str(ROOT / "tests" / "coverage_floor.py")],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )

    # Measured afresh, not by the coverage of the run that runs this test (pytest-cov's settings for subprocesses).
    env = {name: value for name, value in os.environ.items() if not name.startswith(("COV_CORE", "COVERAGE"))}
    subprocess.run([sys.executable, "-m", "coverage", "run", "covered.py"], cwd=tmp_path, check=True, env=env)
    assert check(75).returncode == 0
    assert check(math.ceil(75 - SLACK)).returncode == 0  # within the slack
    too_low = check(math.floor(75 - SLACK) - 1)
    raised = math.floor((75 - SLACK / 2) * 10) / 10
    assert too_low.returncode == 1 and "raise the floor" in too_low.stderr and f"to {raised:g};" in too_low.stderr
    too_high = check(90)
    assert too_high.returncode == 1 and "below the floor" in too_high.stderr
