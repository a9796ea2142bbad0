// Bundles the pages' scripts from their npm packages into api/pages/static, and draws the offline base map's outlines
// from world-atlas (Natural Earth) into a small JSON file of rounded coordinates. Run by the package build.
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { feature, mesh } from "topojson-client";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, "api", "pages", "static");

const bundled = await esbuild.build({
  entryPoints: { site: path.join(root, "browser", "site.js"), editor: path.join(root, "browser", "editor.js") },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir: out,
  entryNames: "[name].bundle",
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});

// The licence of every npm package inside the bundles, served beside them.
const packages = new Set();
for (const input of Object.keys(bundled.metafile.inputs)) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (match) packages.add(match[1]);
}
const notices = [];
for (const name of [...packages].sort()) {
  const folder = path.join(root, "node_modules", name);
  const manifest = JSON.parse(await readFile(path.join(folder, "package.json"), "utf8"));
  let text = `${name} ${manifest.version} (${manifest.license})`;
  for (const file of ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"]) {
    try {
      text += "\n\n" + (await readFile(path.join(folder, file), "utf8")).trim();
      break;
    } catch {
      // the next spelling
    }
  }
  notices.push(text);
}
notices.push("world-atlas (ISC), from Natural Earth (public domain): basemap.json");
await writeFile(path.join(out, "third-party-licenses.txt"), notices.join("\n\n" + "-".repeat(78) + "\n\n") + "\n");

// Land and country borders at 1:50m (Natural Earth), thinned to points 0.1° apart (about 8 km, finer than a map of
// a region shows), each shared border once: loaded only when a map is drawn.
const read = async (name) => JSON.parse(await readFile(path.join(root, "node_modules", "world-atlas", name), "utf8"));
function thin(line) {
  const kept = [];
  line.forEach(([lon, lat], index) => {
    const last = kept[kept.length - 1];
    if (!last || index === line.length - 1 || Math.hypot(last[0] - lon, last[1] - lat) >= 0.1) {
      kept.push([lon, lat]);
    }
  });
  // Hundredths of a degree, each point as the step from the one before: short numbers, a third of the size.
  const steps = [];
  let [x, y] = [0, 0];
  for (const [lon, lat] of kept) {
    const [nx, ny] = [Math.round(lon * 100), Math.round(lat * 100)];
    steps.push(nx - x, ny - y);
    [x, y] = [nx, ny];
  }
  return steps;
}
const land = await read("land-50m.json");
const rings = [];
for (const shape of feature(land, land.objects.land).features) {
  const polygons = shape.geometry.type === "Polygon" ? [shape.geometry.coordinates] : shape.geometry.coordinates;
  polygons.forEach((polygon) => polygon.forEach((ring) => {
    const line = thin(ring);
    if (line.length >= 8) rings.push(line);
  }));
}
const countries = await read("countries-50m.json");
const borders = mesh(countries, countries.objects.countries, (a, b) => a !== b).coordinates.map(thin)
  .filter((line) => line.length >= 4);
const files = { "basemap.json": JSON.stringify({ source: "Natural Earth 1:50m, via world-atlas", encoding: "delta-hundredths", rings, borders }) };
await writeFile(path.join(out, "basemap.json"), files["basemap.json"]);

// Each file also gzipped, for the service to send to browsers that accept it.
for (const name of ["basemap.json", "site.bundle.js", "editor.bundle.js"]) {
  await writeFile(path.join(out, name + ".gz"), gzipSync(await readFile(path.join(out, name)), { level: 9 }));
}
