// The query editor: runs the text area's query against the endpoint and shows the answer as a table.
// Plain script, no framework and nothing from another host, so that the page works offline.
"use strict";

(function () {
  const form = document.getElementById("editor");
  if (!form) {
    return;
  }
  const endpoint = form.dataset.endpoint;
  const namespace = form.dataset.namespace;
  const textarea = document.getElementById("query");
  const examples = document.getElementById("examples");
  const status = document.getElementById("status");
  const results = document.getElementById("results");
  const downloads = form.querySelectorAll("button[data-download]");
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";
  // Prefixes every reader of this graph meets; the query's own declarations come first.
  const KNOWN_PREFIXES = [
    ["rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"], ["rdfs", "http://www.w3.org/2000/01/rdf-schema#"],
    ["owl", "http://www.w3.org/2002/07/owl#"], ["xsd", XSD], ["skos", "http://www.w3.org/2004/02/skos/core#"],
    ["org", "http://www.w3.org/ns/org#"], ["prov", "http://www.w3.org/ns/prov#"], ["dct", "http://purl.org/dc/terms/"],
    ["schema", "http://schema.org/"], ["time", "http://www.w3.org/2006/time#"], ["dcat", "http://www.w3.org/ns/dcat#"],
    ["foaf", "http://xmlns.com/foaf/0.1/"], ["sck", namespace + "ontology#"],
  ];
  const TYPES = {
    results: "application/sparql-results+json",
    graph: "text/turtle",
    csv: "text/csv",
    json: "application/sparql-results+json",
  };

  function element(name, attributes, text) {
    const node = document.createElement(name);
    Object.entries(attributes || {}).forEach(([key, value]) => node.setAttribute(key, value));
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function say(message, kind) {
    status.textContent = message;
    status.className = "status" + (kind ? " status-" + kind : "");
  }

  // The prefixes the query declares, so that IRIs are shown the way the query writes them.
  function prefixesOf(query) {
    const found = [];
    const pattern = /PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>/gi;
    let match;
    while ((match = pattern.exec(query)) !== null) {
      found.push([match[1] || "", match[2]]);
    }
    const declared = new Set(found.map(([prefix]) => prefix));
    return found.concat(KNOWN_PREFIXES.filter(([prefix]) => !declared.has(prefix)))
      .sort((a, b) => b[1].length - a[1].length);
  }

  // An IRI of this graph is served by this server at the same path; other IRIs are linked as they are.
  function hrefOf(iri) {
    return iri.startsWith(namespace) ? "/" + iri.slice(namespace.length) : iri;
  }

  // This graph's own things are shown by their path (id/city/raunheim), other IRIs by a prefix where one fits.
  function shortIri(iri, prefixes) {
    if (iri.startsWith(namespace + "id/") || iri.startsWith(namespace + "vocab/")) {
      return iri.slice(namespace.length);
    }
    for (const [prefix, base] of prefixes) {
      const local = iri.slice(base.length);
      if (base && iri.startsWith(base) && /^[\w-]*$/.test(local)) {
        return prefix + ":" + local;
      }
    }
    return iri;
  }

  function cell(term, prefixes) {
    const td = element("td");
    if (!term) {
      return td;
    }
    if (term.type === "uri") {
      const link = element("a", { href: hrefOf(term.value), title: term.value, class: "term" });
      // A break opportunity after each slash, so that long paths wrap between their steps.
      shortIri(term.value, prefixes).split(/(?<=\/)/).forEach((part, index) => {
        if (index > 0) {
          link.append(element("wbr"));
        }
        link.append(part);
      });
      td.append(link);
    } else if (term.type === "bnode") {
      td.append(element("span", { class: "bnode" }, "_:" + term.value));
    } else {
      td.append(document.createTextNode(term.value));
      const note = term["xml:lang"] ? "@" + term["xml:lang"]
        : term.datatype && term.datatype !== XSD + "string" && term.datatype !== RDF_LANG_STRING
          ? shortIri(term.datatype, [["xsd", XSD]]) : "";
      if (note) {
        td.append(" ", element("span", { class: "datatype" }, note));
      }
    }
    return td;
  }

  function showTable(data, query) {
    const prefixes = prefixesOf(query);
    const variables = data.head.vars || [];
    const rows = data.results.bindings;
    const table = element("table", { class: "results" });
    const head = element("tr");
    variables.forEach((name) => head.append(element("th", { scope: "col" }, name)));
    const thead = element("thead");
    thead.append(head);
    table.append(thead);
    const body = element("tbody");
    rows.forEach((row) => {
      const tr = element("tr");
      variables.forEach((name) => tr.append(cell(row[name], prefixes)));
      body.append(tr);
    });
    table.append(body);
    const wrapper = element("div", { class: "table-scroll" });
    wrapper.append(table);
    results.replaceChildren(wrapper);
    return rows.length;
  }

  // The endpoint answers errors as JSON {"error": {"message": ...}} or as plain text; show the message either way.
  async function errorMessage(response) {
    const text = await response.text();
    let message = text;
    try {
      const body = JSON.parse(text);
      message = (body.error && (body.error.message || body.error)) || body.detail || body.message || text;
    } catch (ignored) {
      message = text;
    }
    const retry = response.headers.get("Retry-After");
    const prefix = {
      400: "The query was not accepted",
      408: "The query took too long and was stopped",
      413: "The query is too large",
      429: "Too many queries from here just now",
      503: "The query took too long or the service is busy",
    }[response.status] || "The endpoint answered " + response.status;
    return prefix + (message ? ": " + String(message).trim() : ".") +
      (retry ? " (try again in " + retry + " s)" : "");
  }

  function ask(query, accept) {
    return fetch(endpoint, {
      method: "POST",
      headers: { "Accept": accept, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ query: query }),
    });
  }

  // The shared address is the editor's own (/query?query=...): at /sparql the same address would answer a browser
  // with the bare results rather than with the editor.
  function keepInUrl(query) {
    const url = new URL(form.dataset.sharePath, window.location.href);
    url.searchParams.set("query", query);
    window.history.replaceState(null, "", url);
  }

  async function run() {
    const query = textarea.value;
    keepInUrl(query);
    say("Running…", "busy");
    results.setAttribute("aria-busy", "true");
    const started = performance.now();
    try {
      const response = await ask(query, TYPES.results + ", " + TYPES.graph + ";q=0.9");
      if (!response.ok) {
        results.replaceChildren();
        say(await errorMessage(response), "error");
        return;
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
      if (type === TYPES.results) {
        const data = await response.json();
        if (typeof data.boolean === "boolean") {
          results.replaceChildren(element("p", { class: "boolean" }, data.boolean ? "true" : "false"));
          say("Answer in " + seconds + " s.", "done");
        } else {
          const count = showTable(data, query);
          say(count + (count === 1 ? " row" : " rows") + " in " + seconds + " s.", "done");
        }
      } else {
        results.replaceChildren(element("pre", { class: "graph" }, await response.text()));
        say("Graph in " + seconds + " s.", "done");
      }
    } catch (error) {
      results.replaceChildren();
      say("The endpoint could not be reached: " + error.message, "error");
    } finally {
      results.removeAttribute("aria-busy");
    }
  }

  async function download(kind) {
    const query = textarea.value;
    say("Preparing the " + kind.toUpperCase() + " file…", "busy");
    try {
      const response = await ask(query, TYPES[kind]);
      if (!response.ok) {
        say(await errorMessage(response), "error");
        return;
      }
      const blob = await response.blob();
      const link = element("a", { href: URL.createObjectURL(blob), download: "results." + kind });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
      say("Saved results." + kind + ".", "done");
    } catch (error) {
      say("The endpoint could not be reached: " + error.message, "error");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
  examples.addEventListener("change", () => {
    const option = examples.selectedOptions[0];
    if (option && option.dataset.query) {
      textarea.value = option.dataset.query;
      textarea.focus();
    }
  });
  // Once the text is edited it is no longer the example the list names.
  textarea.addEventListener("input", () => {
    const option = examples.selectedOptions[0];
    if (option && option.dataset.query !== undefined && option.dataset.query !== textarea.value) {
      examples.value = "";
    }
  });
  downloads.forEach((button) => button.addEventListener("click", () => download(button.dataset.download)));
  if (form.dataset.runNow === "true") {
    run();
  }
})();
