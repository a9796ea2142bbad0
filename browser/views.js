// Result views of SPARQL JSON results: table, map (GeoSPARQL WKT points on an offline base map), timeline (date
// columns), chart (label and number) and graph (IRIs as nodes). Each says whether the columns fit it.
import { forceSimulation, forceLink, forceManyBody, forceCenter, forceCollide } from "d3-force";

const XSD = "http://www.w3.org/2001/XMLSchema#";
const RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";
const WKT = "http://www.opengis.net/ont/geosparql#wktLiteral";
const SVG = "http://www.w3.org/2000/svg";
const NUMERIC = new Set(["integer", "decimal", "double", "float", "int", "long", "short", "byte",
  "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong"]
  .map((name) => XSD + name));
const DATES = new Set(["date", "dateTime", "gYear", "gYearMonth", "dateTimeStamp"].map((name) => XSD + name));
const DATE_TEXT = /^-?\d{4}(-\d{2}(-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
const POINT = /^\s*(<[^>]*>\s*)?POINT\s*\(\s*(-?[\d.]+(?:e-?\d+)?)\s+(-?[\d.]+(?:e-?\d+)?)\s*\)\s*$/i;

export function element(name, attributes, text) {
  const node = document.createElement(name);
  Object.entries(attributes || {}).forEach(([key, value]) => node.setAttribute(key, value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function svgElement(name, attributes) {
  const node = document.createElementNS(SVG, name);
  Object.entries(attributes || {}).forEach(([key, value]) => node.setAttribute(key, String(value)));
  return node;
}

// The service's prefix map (graph/prefixes.py), which every page carries as JSON [prefix, namespace] pairs.
export function pagePrefixes() {
  const source = document.getElementById("prefixes");
  return source ? JSON.parse(source.textContent) : [];
}

// The prefixes the query declares, then the service's, longest namespace first.
export function prefixesOf(query) {
  const found = [];
  const pattern = /PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>/gi;
  let match;
  while ((match = pattern.exec(query || "")) !== null) found.push([match[1] || "", match[2]]);
  const declared = new Set(found.map(([prefix]) => prefix));
  return found.concat(pagePrefixes().filter(([prefix]) => !declared.has(prefix))).sort((a, b) => b[1].length - a[1].length);
}

// The context every view needs: this graph's namespace (its IRIs are served here) and the prefixes to show IRIs by.
export function context(namespace, query) {
  return { namespace, prefixes: prefixesOf(query) };
}

// Where an IRI links to: this graph's own IRIs to their pages here, other http(s) IRIs as they are, and nothing
// else (a query can bind any IRI, "javascript:..." included: such a value is shown as text, never followed).
export function hrefOf(iri, ctx) {
  if (iri.startsWith(ctx.namespace)) {
    const local = iri.slice(ctx.namespace.length);
    // ".../smartcity-kg//evil.example/" must not become the off-site "//evil.example/"; linked as it is instead.
    if (!/^[/\\]/.test(local.replace(/[\t\n\r]/g, ""))) return "/" + local;
  }
  return /^https?:\/\/[^/\\]/i.test(iri) ? iri : null;
}

export function shortIri(iri, ctx) {
  if (iri.startsWith(ctx.namespace + "id/") || iri.startsWith(ctx.namespace + "vocab/")) {
    return iri.slice(ctx.namespace.length);
  }
  for (const [prefix, base] of ctx.prefixes) {
    const local = iri.slice(base.length);
    if (base && iri.startsWith(base) && /^[\w-]*$/.test(local)) return prefix + ":" + local;
  }
  return iri;
}

function isNumber(term) {
  return term && term.type !== "uri" && term.type !== "bnode" && NUMERIC.has(term.datatype);
}

function isDate(term) {
  if (!term || term.type === "uri" || term.type === "bnode") return false;
  return DATES.has(term.datatype) || (!term.datatype && DATE_TEXT.test(term.value));
}

export function pointOf(term) {
  if (!term || term.type === "uri" || term.type === "bnode") return null;
  if (term.datatype !== WKT && !/^\s*(<[^>]*>\s*)?POINT/i.test(term.value)) return null;
  const match = POINT.exec(term.value);
  if (!match) return null;
  const lon = Number(match[2]);
  const lat = Number(match[3]);
  return Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180
    ? [lon, lat] : null;
}

// Which variable labels which: ?xLabel labels ?x; otherwise the first plain literal of the row.
function labeller(vars, ctx) {
  return (row, name) => {
    const term = row[name];
    if (!term) return "";
    const label = row[name + "Label"] || row[name + "_label"];
    if (label) return label.value;
    return term.type === "uri" ? shortIri(term.value, ctx) : term.value;
  };
}

function rowLabel(row, vars, ctx, skip) {
  const label = labeller(vars, ctx);
  const literal = vars.find((name) => name !== skip && row[name] && row[name].type !== "uri" &&
    !isNumber(row[name]) && !isDate(row[name]) && !pointOf(row[name]));
  if (literal) return row[literal].value;
  const iri = vars.find((name) => name !== skip && row[name] && row[name].type === "uri");
  return iri ? label(row, iri) : "";
}

function rowLink(row, vars, ctx) {
  const iri = vars.find((name) => row[name] && row[name].type === "uri" && row[name].value.startsWith(ctx.namespace));
  return iri ? hrefOf(row[iri].value, ctx) : null;
}

function columns(data) {
  return data.head && data.head.vars ? data.head.vars : [];
}

function rows(data) {
  return data.results && data.results.bindings ? data.results.bindings : [];
}

function firstColumn(data, test) {
  return columns(data).find((name) => rows(data).some((row) => test(row[name])));
}

// ---- table -------------------------------------------------------------------------------------------------------

function cell(term, ctx) {
  const td = element("td");
  if (!term) return td;
  if (term.type === "uri") {
    const href = hrefOf(term.value, ctx);
    const link = href ? element("a", { href, title: term.value, class: "term" })
      : element("span", { title: term.value, class: "term" });
    // A break opportunity after each slash, so that long paths wrap between their steps.
    shortIri(term.value, ctx).split(/(?<=\/)/).forEach((part, index) => {
      if (index > 0) link.append(element("wbr"));
      link.append(part);
    });
    td.append(link);
  } else if (term.type === "bnode") {
    td.append(element("span", { class: "bnode" }, "_:" + term.value));
  } else {
    td.append(document.createTextNode(term.value));
    const note = term["xml:lang"] ? "@" + term["xml:lang"]
      : term.datatype && term.datatype !== XSD + "string" && term.datatype !== RDF_LANG_STRING
        ? shortIri(term.datatype, ctx) : "";
    if (note) td.append(" ", element("span", { class: "datatype" }, note));
  }
  return td;
}

// Numbers by value, everything else as text (dates in ISO form sort as text); unbound last.
function compareTerms(a, b) {
  if (!a || !b) return (a ? 0 : 1) - (b ? 0 : 1);
  if (isNumber(a) && isNumber(b)) return Number(a.value) - Number(b.value);
  return a.value.localeCompare(b.value, undefined, { numeric: true });
}

function table(data, target, ctx) {
  const vars = columns(data);
  const tableNode = element("table", { class: "results" });
  const head = element("tr");
  const body = element("tbody");
  const fill = (list) => {
    body.replaceChildren(...list.map((row) => {
      const tr = element("tr");
      vars.forEach((name) => tr.append(cell(row[name], ctx)));
      return tr;
    }));
  };
  // Each heading is a button that sorts by its column, then the other way round, as in a spreadsheet.
  vars.forEach((name) => {
    const th = element("th", { scope: "col" });
    const button = element("button", { type: "button", class: "sort" }, name);
    button.addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      head.querySelectorAll("th").forEach((other) => other.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const sorted = [...rows(data)].sort((a, b) => compareTerms(a[name], b[name]));
      fill(ascending ? sorted : sorted.reverse());
    });
    th.append(button);
    head.append(th);
  });
  const thead = element("thead");
  thead.append(head);
  fill(rows(data));
  tableNode.append(thead, body);
  // The scrolling region holds no focusable element of its own when empty: it gets a tab stop to be scrollable.
  const wrapper = element("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Results" });
  wrapper.append(tableNode);
  target.replaceChildren(wrapper);
}

// ---- map ---------------------------------------------------------------------------------------------------------

let basemap = null;

function loadBasemap() {
  if (!basemap) {
    basemap = fetch(document.documentElement.dataset.basemap || "/static/basemap.json")
      .then((response) => (response.ok ? response.json() : { rings: [] }))
      .catch(() => ({ rings: [] }));
  }
  return basemap;
}

export function mapPoints(data, ctx) {
  const vars = columns(data);
  const points = [];
  rows(data).forEach((row) => {
    vars.forEach((name) => {
      const point = pointOf(row[name]);
      if (point) points.push({ lon: point[0], lat: point[1], label: rowLabel(row, vars, ctx, name),
        href: rowLink(row, vars, ctx) });
    });
  });
  return points;
}

async function map(data, target, ctx) {
  const points = mapPoints(data, ctx);
  const figure = element("figure", { class: "result-map" });
  target.replaceChildren(figure);
  if (points.length === 0) {
    figure.append(element("p", { class: "empty" }, "No coordinates (GeoSPARQL WKT points) in these results."));
    return;
  }
  const lats = points.map((p) => p.lat);
  const lons = points.map((p) => p.lon);
  const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
  // Equirectangular, with longitudes shrunk by the cosine of the middle latitude: true shapes near the points.
  const kx = Math.max(Math.cos((midLat * Math.PI) / 180), 0.2);
  const x = (lon) => lon * kx;
  const y = (lat) => -lat;
  let [x0, x1] = [Math.min(...lons.map(x)), Math.max(...lons.map(x))];
  let [y0, y1] = [Math.min(...lats.map(y)), Math.max(...lats.map(y))];
  const span = Math.max(x1 - x0, y1 - y0, 1.5);
  const pad = span * 0.15;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const width = Math.max(x1 - x0, span * 1.4) + 2 * pad;
  const height = Math.max(y1 - y0, span * 0.8) + 2 * pad;
  [x0, y0] = [cx - width / 2, cy - height / 2];
  [x1, y1] = [cx + width / 2, cy + height / 2];
  const svg = svgElement("svg", { viewBox: `${x0} ${y0} ${width} ${height}`, role: "group", class: "map",
    "aria-label": `Map of ${points.length} place${points.length === 1 ? "" : "s"}` });
  svg.append(svgElement("rect", { x: x0, y: y0, width, height, class: "sea" }));
  figure.append(svg);
  const land = svgElement("path", { class: "land", d: "" });
  svg.append(land);
  const radius = width / 140;
  const dots = svgElement("g", { class: "points" });
  points.forEach((point) => {
    const dot = svgElement("circle", { cx: x(point.lon), cy: y(point.lat), r: radius });
    const title = svgElement("title");
    title.textContent = `${point.label} (${point.lat}, ${point.lon})`;
    dot.append(title);
    const mark = svgElement("g");
    mark.append(dot);
    // Names beside the points while there are few enough to read; the list below names them all.
    if (points.length <= 25) {
      const name = svgElement("text", { x: x(point.lon) + radius * 1.6, y: y(point.lat) + radius * 0.6,
        "font-size": radius * 2.6 });
      name.textContent = point.label;
      mark.append(name);
    }
    if (point.href) {
      const link = svgElement("a", { href: point.href });
      link.append(mark);
      dots.append(link);
    } else {
      dots.append(mark);
    }
  });
  svg.append(dots);
  const list = element("ul", { class: "map-legend" });
  points.slice(0, 200).forEach((point) => {
    const item = element("li");
    const name = point.href ? element("a", { href: point.href }, point.label) : element("span", {}, point.label);
    item.append(name, ` ${point.lat.toFixed(3)}, ${point.lon.toFixed(3)}`);
    list.append(item);
  });
  const caption = element("figcaption");
  caption.append(element("span", { class: "muted" }, "Base map: Natural Earth country outlines. "), list);
  figure.append(caption);
  // Only the lines near the view are drawn: the whole world is thousands of them.
  const { rings, borders } = await loadBasemap();
  const near = (px, py) => px > x0 - width && px < x1 + width && py > y0 - height && py < y1 + height;
  const trace = (steps, close) => {
    let [lon, lat] = [0, 0];
    let d = "";
    let any = false;
    for (let i = 0; i < steps.length; i += 2) {
      lon += steps[i];
      lat += steps[i + 1];
      const px = x(lon / 100);
      const py = y(lat / 100);
      any = any || near(px, py);
      d += `${i ? "L" : "M"}${px.toFixed(3)} ${py}`;
    }
    return any ? d + (close ? "Z" : "") : "";
  };
  land.setAttribute("d", (rings || []).map((ring) => trace(ring, true)).join(""));
  const lines = svgElement("path", { class: "borders", d: (borders || []).map((line) => trace(line, false)).join(""),
    "stroke-width": String(width / 700) });
  land.setAttribute("stroke-width", String(width / 900));
  svg.insertBefore(lines, dots);
  figure.dataset.drawn = "true";
}

// ---- timeline ----------------------------------------------------------------------------------------------------

function dateValue(text) {
  const [year, month, day] = text.replace(/T.*/, "").split("-").filter(Boolean).map(Number);
  return Date.UTC(year, (month || 1) - 1, day || 1);
}

function timeline(data, target, ctx) {
  const vars = columns(data);
  const dateVars = vars.filter((name) => rows(data).some((row) => isDate(row[name])));
  const items = [];
  rows(data).forEach((row) => {
    dateVars.forEach((name) => {
      if (!isDate(row[name])) return;
      const text = row[name].value;
      items.push({ text, at: dateValue(text), what: rowLabel(row, vars, ctx, name), column: name,
        href: rowLink(row, vars, ctx) });
    });
  });
  items.sort((a, b) => a.at - b.at || a.what.localeCompare(b.what));
  const list = element("ol", { class: "timeline result-timeline" });
  items.forEach((item) => {
    const li = element("li");
    li.append(element("time", { datetime: item.text.replace(/T.*/, "") }, item.text.replace(/T.*/, "")), " ");
    li.append(item.href ? element("a", { href: item.href }, item.what) : element("span", {}, item.what));
    if (dateVars.length > 1) li.append(" ", element("span", { class: "kind" }, `(${item.column})`));
    list.append(li);
  });
  // An axis above the list: one mark per dated row, years at the ends, so clusters and gaps show at a glance.
  const axis = svgElement("svg", { viewBox: "0 0 1000 60", class: "timeline-axis", role: "img",
    "aria-label": items.length ? `From ${items[0].text} to ${items[items.length - 1].text}` : "No dates" });
  if (items.length) {
    const first = items[0].at;
    const last = items[items.length - 1].at;
    const position = (at) => 20 + (last === first ? 480 : ((at - first) / (last - first)) * 960);
    axis.append(svgElement("line", { x1: 20, x2: 980, y1: 30, y2: 30, class: "axis" }));
    items.forEach((item) => axis.append(svgElement("circle", { cx: position(item.at), cy: 30, r: 6, class: "mark" })));
    const startYear = new Date(first).getUTCFullYear();
    const endYear = new Date(last).getUTCFullYear();
    const step = Math.max(1, Math.ceil((endYear - startYear) / 8));
    for (let year = startYear; year <= endYear; year += step) {
      const at = position(Date.UTC(year, 0, 1));
      if (at < 20) continue;
      axis.append(svgElement("line", { x1: at, x2: at, y1: 40, y2: 46, class: "tick" }));
      const label = svgElement("text", { x: at, y: 58, "text-anchor": "middle" });
      label.textContent = String(year);
      axis.append(label);
    }
  }
  target.replaceChildren(axis, list);
}

// ---- chart -------------------------------------------------------------------------------------------------------

// A year names a bar rather than measuring it: a column of xsd:gYear, or of four-digit integers named "...year...".
function isYearColumn(data, name) {
  return /year/i.test(name) && rows(data).some((row) => row[name]) &&
    rows(data).every((row) => !row[name] || /^-?\d{4}$/.test(row[name].value));
}

// The bars' length: the first numeric column that is not a year (in `SELECT ?year (COUNT(?a) AS ?n)`, ?n).
function valueColumn(data) {
  return columns(data).find((name) => !isYearColumn(data, name) && rows(data).some((row) => isNumber(row[name])));
}

function chart(data, target, ctx) {
  const vars = columns(data);
  const numberVar = valueColumn(data);
  const label = labeller(vars, ctx);
  const labelVar = vars.find((name) => name !== numberVar && !name.endsWith("Label") &&
    (isYearColumn(data, name) || rows(data).some((row) => row[name] && !isNumber(row[name]))));
  const bars = rows(data).filter((row) => isNumber(row[numberVar]))
    .map((row) => ({ label: labelVar ? label(row, labelVar) : "", value: Number(row[numberVar].value),
      href: labelVar && row[labelVar] && row[labelVar].type === "uri" ? hrefOf(row[labelVar].value, ctx) : null }))
    .sort((a, b) => b.value - a.value).slice(0, 60);
  const max = Math.max(...bars.map((bar) => bar.value), 0) || 1;
  const rowHeight = 26;
  const svg = svgElement("svg", { viewBox: `0 0 1000 ${bars.length * rowHeight + 10}`, class: "chart", role: "img",
    "aria-label": `Bar chart of ${numberVar}${labelVar ? " by " + labelVar : ""}` });
  bars.forEach((bar, index) => {
    const top = index * rowHeight + 5;
    const name = svgElement("text", { x: 330, y: top + 17, "text-anchor": "end" });
    name.textContent = bar.label.length > 42 ? bar.label.slice(0, 41) + "…" : bar.label;
    const rect = svgElement("rect", { x: 340, y: top + 3, height: rowHeight - 8,
      width: Math.max(1, (Math.max(bar.value, 0) / max) * 560) });
    const value = svgElement("text", { x: 346 + (Math.max(bar.value, 0) / max) * 560, y: top + 17, class: "value" });
    value.textContent = String(bar.value);
    svg.append(name, rect, value);
  });
  const caption = element("p", { class: "muted" },
    `${numberVar}${labelVar ? " by " + labelVar : ""}${bars.length === 60 ? " (the 60 largest)" : ""}`);
  target.replaceChildren(caption, svg);
}

// ---- graph -------------------------------------------------------------------------------------------------------

function graph(data, target, ctx) {
  const vars = columns(data);
  const iriVars = vars.filter((name) => rows(data).some((row) => row[name] && row[name].type === "uri"));
  const label = labeller(vars, ctx);
  const nodes = new Map();
  const links = new Map();
  const node = (row, name) => {
    const iri = row[name].value;
    if (!nodes.has(iri)) nodes.set(iri, { id: iri, label: label(row, name), href: hrefOf(iri, ctx), kind: name });
    return nodes.get(iri);
  };
  rows(data).forEach((row) => {
    const present = iriVars.filter((name) => row[name] && row[name].type === "uri");
    for (let i = 0; i + 1 < present.length; i += 1) {
      const a = node(row, present[i]);
      const b = node(row, present[i + 1]);
      if (a !== b) links.set(a.id + " " + b.id, { source: a.id, target: b.id, label: present[i + 1] });
    }
    if (present.length === 1) node(row, present[0]);
  });
  const nodeList = [...nodes.values()].slice(0, 400);
  const kept = new Set(nodeList.map((n) => n.id));
  const linkList = [...links.values()].filter((l) => kept.has(l.source) && kept.has(l.target));
  const size = 900;
  const simulation = forceSimulation(nodeList)
    .force("link", forceLink(linkList).id((n) => n.id).distance(60))
    .force("charge", forceManyBody().strength(-120))
    .force("collide", forceCollide(14))
    .force("center", forceCenter(size / 2, size / 2))
    .stop();
  simulation.tick(300);
  const xs = nodeList.map((n) => n.x);
  const ys = nodeList.map((n) => n.y);
  // At least 700 × 320 units, so that a small graph keeps its labels at reading size.
  const spanX = Math.max(Math.max(...xs) - Math.min(...xs) + 180, 700);
  const spanY = Math.max(Math.max(...ys) - Math.min(...ys) + 60, 320);
  const minX = (Math.max(...xs) + Math.min(...xs)) / 2 - spanX / 2;
  const minY = (Math.max(...ys) + Math.min(...ys)) / 2 - spanY / 2;
  const svg = svgElement("svg", { viewBox: `${minX} ${minY} ${spanX} ${spanY}`, class: "graph-view",
    role: "group", "aria-label": `Graph of ${nodeList.length} things and ${linkList.length} links` });
  const kinds = [...new Set(nodeList.map((n) => n.kind))];
  linkList.forEach((link) => {
    svg.append(svgElement("line", { x1: link.source.x, y1: link.source.y, x2: link.target.x, y2: link.target.y }));
  });
  nodeList.forEach((n) => {
    const anchor = n.href ? svgElement("a", { href: n.href }) : svgElement("g");
    const title = svgElement("title");
    title.textContent = `${n.label} (${n.kind})`;
    const circle = svgElement("circle", { cx: n.x, cy: n.y, r: 7, class: `kind-${kinds.indexOf(n.kind) % 6}` });
    const text = svgElement("text", { x: n.x + 10, y: n.y + 4 });
    text.textContent = n.label.length > 30 ? n.label.slice(0, 29) + "…" : n.label;
    anchor.append(title, circle, text);
    svg.append(anchor);
  });
  const legend = element("p", { class: "muted graph-legend" });
  kinds.forEach((kind, index) => {
    legend.append(element("span", { class: `swatch kind-${index % 6}`, "aria-hidden": "true" }), ` ?${kind} `);
  });
  target.replaceChildren(legend, svg);
}

// ---- the views, in the order their tabs are shown ----------------------------------------------------------------

export const VIEWS = [
  { id: "table", name: "Table", fits: () => true, render: table },
  { id: "map", name: "Map", fits: (data) => Boolean(firstColumn(data, pointOf)), render: map },
  { id: "timeline", name: "Timeline", fits: (data) => Boolean(firstColumn(data, isDate)), render: timeline },
  { id: "chart", name: "Chart", render: chart,
    fits: (data) => Boolean(valueColumn(data)) && columns(data).length >= 2 },
  { id: "graph", name: "Graph", render: graph,
    fits: (data) => columns(data).filter((name) => rows(data).some((row) => row[name] && row[name].type === "uri"))
      .length >= 2 },
];

export function fittingViews(data) {
  return VIEWS.filter((view) => view.fits(data));
}

export function renderView(id, data, target, ctx) {
  const view = VIEWS.find((candidate) => candidate.id === id) || VIEWS[0];
  return view.render(data, target, ctx);
}
