// The query editor: CodeMirror with SPARQL highlighting and completion (keywords, prefixes, this ontology's terms,
// things by label), result views on tabs, the query and view in the address, short links, embeds and code snippets.
import { EditorState, Prec } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching } from "@codemirror/language";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { sparql } from "@codemirror/legacy-modes/mode/sparql";
import { context, element, fittingViews, pagePrefixes, renderView, VIEWS } from "./views.js";
import { snippets } from "./snippets.js";

const form = document.getElementById("editor");
if (form) start(form);

function start(form) {
  const endpoint = form.dataset.endpoint;
  const namespace = form.dataset.namespace;
  const textarea = document.getElementById("query");
  const examples = document.getElementById("examples");
  const status = document.getElementById("status");
  const tabs = document.getElementById("view-tabs");
  const results = document.getElementById("results");
  const share = document.getElementById("share");
  const vocabulary = JSON.parse(document.getElementById("vocabulary").textContent);
  const TYPES = { results: "application/sparql-results+json", graph: "text/turtle", csv: "text/csv",
    json: "application/sparql-results+json" };
  // The view asked for: by the address, or by the short link the page was opened with.
  let view = new URL(window.location.href).searchParams.get("view") || form.dataset.view || "table";
  let last = null;  // the last results, for switching views without asking again

  function say(message, kind) {
    status.textContent = message;
    status.className = "status" + (kind ? " status-" + kind : "");
  }

  // ---- completion ----------------------------------------------------------------------------------------------

  const KEYWORDS = ["SELECT", "DISTINCT", "WHERE", "OPTIONAL", "FILTER", "PREFIX", "BIND", "VALUES", "UNION",
    "MINUS", "GRAPH", "SERVICE", "ORDER BY", "GROUP BY", "HAVING", "LIMIT", "OFFSET", "ASK", "CONSTRUCT", "DESCRIBE",
    "COUNT", "SAMPLE", "GROUP_CONCAT", "MIN", "MAX", "AVG", "SUM", "STR", "LANG", "LANGMATCHES", "CONTAINS",
    "STRSTARTS", "REGEX", "COALESCE", "IF", "EXISTS", "NOT EXISTS", "YEAR", "LCASE", "UCASE", "DATATYPE", "IRI"];
  const known = pagePrefixes();
  const prefixIri = new Map(known);

  function declared(state) {
    const found = new Map();
    const pattern = /PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>/gi;
    let match;
    const text = state.doc.toString();
    while ((match = pattern.exec(text)) !== null) found.set(match[1] || "", match[2]);
    return found;
  }

  // Choosing a prefixed term whose prefix the query lacks adds its declaration at the top.
  function withPrefix(prefix, text) {
    return (view, completion, from, to) => {
      const changes = [{ from, to, insert: text }];
      if (!declared(view.state).has(prefix) && prefixIri.has(prefix)) {
        changes.push({ from: 0, insert: `PREFIX ${prefix}: <${prefixIri.get(prefix)}>\n` });
      }
      view.dispatch({ changes, selection: { anchor: from + text.length + (changes.length > 1
        ? `PREFIX ${prefix}: <${prefixIri.get(prefix)}>\n`.length : 0) } });
    };
  }

  function prefixDeclarations(ctx) {
    const line = ctx.state.doc.lineAt(ctx.pos);
    const before = line.text.slice(0, ctx.pos - line.from);
    const match = /PREFIX\s+([\w-]*)$/i.exec(before);
    if (!match) return null;
    return {
      from: ctx.pos - match[1].length,
      options: known.map(([prefix, iri]) => ({ label: `${prefix}:`, detail: iri, type: "namespace",
        apply: `${prefix}: <${iri}>` })),
    };
  }

  function terms(ctx) {
    const word = ctx.matchBefore(/[A-Za-z][\w-]*:[\w-]*/);
    if (!word) return null;
    const prefix = word.text.slice(0, word.text.indexOf(":"));
    const iri = declared(ctx.state).get(prefix) || prefixIri.get(prefix);
    if (!iri) return null;
    const options = vocabulary.terms.filter((term) => term.iri.startsWith(iri) &&
      /^[\w-]+$/.test(term.iri.slice(iri.length))).map((term) => {
      const text = `${prefix}:${term.iri.slice(iri.length)}`;
      return { label: text, detail: term.label || "", type: term.kind === "class" ? "class" : "property",
        apply: withPrefix(prefix, text), boost: term.kind === "class" ? 1 : 0 };
    });
    return { from: word.from, options, validFor: /^[A-Za-z][\w-]*:[\w-]*$/ };
  }

  async function things(ctx) {
    const word = ctx.matchBefore(/(?<![?$:<\w])[\p{L}][\p{L}\p{N}-]*/u);
    if (!word || (word.text.length < 3 && !ctx.explicit)) return null;
    const upper = word.text.toUpperCase();
    const keywords = KEYWORDS.filter((keyword) => keyword.startsWith(upper))
      .map((keyword) => ({ label: keyword, type: "keyword" }));
    let found = [];
    try {
      const response = await fetch(`/api/v1/search?${new URLSearchParams({ q: word.text, limit: "10" })}`,
        { headers: { Accept: "application/json" } });
      if (response.ok) found = (await response.json()).items || [];
    } catch (error) {
      found = [];
    }
    if (ctx.aborted) return null;
    const options = found.map((item) => ({ label: item.label, detail: `${item.type} · ${item.key}`, type: "constant",
      apply: `<${item.id}>`, boost: -1 }));
    return { from: word.from, options: keywords.concat(options), filter: false };
  }

  function keywordsOnly(ctx) {
    const word = ctx.matchBefore(/(?<![?$:<\w])[A-Za-z_]+/);
    if (!word || word.text.length < 2) return null;
    const upper = word.text.toUpperCase();
    return { from: word.from, options: KEYWORDS.filter((keyword) => keyword.startsWith(upper))
      .map((keyword) => ({ label: keyword, type: "keyword" })) };
  }

  // Things by label come with the keywords that start the same way; the keyword list alone while the search answers.
  async function completions(ctx) {
    return prefixDeclarations(ctx) || terms(ctx) || (await things(ctx)) || keywordsOnly(ctx);
  }

  // ---- the editor ----------------------------------------------------------------------------------------------

  const editor = new EditorView({
    parent: textarea.parentNode,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        Prec.highest(keymap.of([{ key: "Mod-Enter", run: () => { run(); return true; } }])),
        lineNumbers(), history(), drawSelection(), highlightActiveLine(), bracketMatching(), closeBrackets(),
        StreamLanguage.define(sparql), syntaxHighlighting(defaultHighlightStyle),
        autocompletion({ override: [completions], activateOnTyping: true, icons: true }),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
        EditorView.lineWrapping,
        // Tab indents in the editor; the hint under it (read with the editor) tells how to leave by keyboard.
        EditorView.contentAttributes.of({ "aria-label": "SPARQL query", id: "query-editor", "aria-describedby": "editor-keys" }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          const option = examples.selectedOptions[0];
          if (option && option.dataset.query !== undefined && option.dataset.query !== textarea.value) {
            examples.value = "";  // once edited, the text is no longer the example the list names
          }
        }),
      ],
    }),
  });
  textarea.parentNode.insertBefore(editor.dom, textarea);
  textarea.hidden = true;
  form.classList.add("enhanced");
  function setQuery(text) {
    editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: text } });
    editor.focus();
  }

  // ---- running and showing -------------------------------------------------------------------------------------

  function ask(query, accept) {
    return fetch(endpoint, {
      method: "POST",
      headers: { Accept: accept, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ query }),
    });
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
    return prefix + (message ? ": " + String(message).trim() : ".") + (retry ? " (try again in " + retry + " s)" : "");
  }

  // An answer cut at the endpoint's limits says so in a header: the reader must know the rows are not all.
  function truncation(response) {
    if (response.headers.get("X-SPARQL-Truncated") !== "true") return "";
    const rows = response.headers.get("X-SPARQL-Max-Rows");
    return " Cut short: the endpoint returns at most " + (rows ? rows + " rows" : "a bounded answer") +
      "; add LIMIT/OFFSET or narrow the query for the rest.";
  }

  // The shared address is the editor's own (/query?query=...&view=...).
  function keepInUrl() {
    const url = new URL(form.dataset.sharePath, window.location.href);
    url.searchParams.set("query", editor.state.doc.toString());
    if (view !== "table") url.searchParams.set("view", view);
    window.history.replaceState(null, "", url);
  }

  function showTabs(data) {
    const fitting = data ? fittingViews(data) : [];
    // The view asked for (by the address or a tab) is kept until results show it does not fit them.
    if (data && !fitting.some((candidate) => candidate.id === view)) view = "table";
    tabs.replaceChildren(...fitting.map((candidate) => {
      const tab = element("button", { type: "button", role: "tab", id: `tab-${candidate.id}`,
        "aria-selected": String(candidate.id === view), "aria-controls": "results",
        tabindex: candidate.id === view ? "0" : "-1", "data-view": candidate.id }, candidate.name);
      tab.addEventListener("click", () => choose(candidate.id));
      return tab;
    }));
    tabs.hidden = fitting.length === 0;
    if (fitting.length) results.setAttribute("aria-labelledby", `tab-${view}`);
  }

  async function choose(id) {
    view = id;
    // The tabs are drawn anew: the focus moves to the chosen one rather than falling back to the page.
    const focused = tabs.contains(document.activeElement);
    showTabs(last);
    if (focused) document.getElementById(`tab-${view}`).focus();
    keepInUrl();
    updateShare();
    results.dataset.view = view;
    await renderView(view, last, results, context(namespace, editor.state.doc.toString()));
  }

  // Arrow keys move between the tabs, as in every tab list.
  tabs.addEventListener("keydown", (event) => {
    const all = [...tabs.querySelectorAll("[role=tab]")];
    const index = all.findIndex((tab) => tab.getAttribute("aria-selected") === "true");
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step || index < 0) return;
    event.preventDefault();
    const next = all[(index + step + all.length) % all.length];
    choose(next.dataset.view);
  });

  async function run() {
    const query = editor.state.doc.toString();
    keepInUrl();
    say("Running…", "busy");
    results.setAttribute("aria-busy", "true");
    const started = performance.now();
    try {
      const response = await ask(query, TYPES.results + ", " + TYPES.graph + ";q=0.9");
      if (!response.ok) {
        last = null;
        showTabs(null);
        results.replaceChildren();
        say(await errorMessage(response), "error");
        return;
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
      if (type === TYPES.results) {
        const data = await response.json();
        if (typeof data.boolean === "boolean") {
          last = null;
          showTabs(null);
          results.replaceChildren(element("p", { class: "boolean" }, data.boolean ? "true" : "false"));
          say("Answer in " + seconds + " s.", "done");
        } else {
          last = data;
          showTabs(data);
          results.dataset.view = view;
          await renderView(view, data, results, context(namespace, query));
          const count = data.results.bindings.length;
          say(count + (count === 1 ? " row" : " rows") + " in " + seconds + " s." + truncation(response), "done");
        }
      } else {
        last = null;
        showTabs(null);
        results.replaceChildren(element("pre", { class: "graph" }, await response.text()));
        say("Graph in " + seconds + " s." + truncation(response), "done");
      }
      updateShare();
    } catch (error) {
      results.replaceChildren();
      say("The endpoint could not be reached: " + error.message, "error");
    } finally {
      results.removeAttribute("aria-busy");
    }
  }

  async function download(kind) {
    say("Preparing the " + kind.toUpperCase() + " file…", "busy");
    try {
      const response = await ask(editor.state.doc.toString(), TYPES[kind]);
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

  // ---- sharing: short link, embed code, code snippets ----------------------------------------------------------

  const shortLink = document.getElementById("short-link");
  const embedCode = document.getElementById("embed-code");
  const snippetTabs = document.getElementById("snippet-tabs");
  const snippetCode = document.getElementById("snippet-code");
  let language = "python";

  function updateShare() {
    const query = editor.state.doc.toString();
    const embedUrl = new URL("/embed", window.location.href);
    embedUrl.searchParams.set("query", query);
    embedUrl.searchParams.set("view", view);
    embedCode.value = `<iframe src="${embedUrl.href.replace(/"/g, "&quot;")}" width="800" height="500" ` +
      `style="border: 1px solid #d8dee4" title="smartcity-kg query results (${view})" loading="lazy"></iframe>`;
    const all = snippets(new URL(endpoint, window.location.href).href, query);
    const focused = snippetTabs.contains(document.activeElement);
    snippetTabs.replaceChildren(...all.map((snippet) => {
      const tab = element("button", { type: "button", role: "tab", "aria-selected": String(snippet.id === language),
        "aria-controls": "snippet-code", id: `snippet-${snippet.id}`, tabindex: snippet.id === language ? "0" : "-1" },
      snippet.name);
      tab.addEventListener("click", () => {
        language = snippet.id;
        updateShare();
      });
      return tab;
    }));
    const chosen = all.find((snippet) => snippet.id === language) || all[0];
    snippetCode.textContent = chosen.code;
    snippetCode.setAttribute("aria-labelledby", `snippet-${chosen.id}`);
    if (focused) document.getElementById(`snippet-${chosen.id}`).focus();
  }

  // Arrow keys move between the languages, as between the views.
  snippetTabs.addEventListener("keydown", (event) => {
    const all = [...snippetTabs.querySelectorAll("[role=tab]")];
    const index = all.findIndex((tab) => tab.id === `snippet-${language}`);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step || index < 0) return;
    event.preventDefault();
    language = all[(index + step + all.length) % all.length].id.replace(/^snippet-/, "");
    updateShare();
  });

  async function makeShortLink() {
    shortLink.value = "";
    try {
      const response = await fetch("/q", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ query: editor.state.doc.toString(), view }),
      });
      const body = await response.json();
      if (!response.ok) {
        say("No short link: " + ((body.error && body.error.message) || body.detail || response.status), "error");
        return;
      }
      shortLink.value = new URL(body.path, window.location.href).href;
      shortLink.select();
      say("Short link made: " + shortLink.value, "done");
    } catch (error) {
      say("The service could not be reached: " + error.message, "error");
    }
  }

  document.getElementById("make-short-link").addEventListener("click", makeShortLink);
  share.querySelectorAll("button[data-copy]").forEach((button) => button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    const text = source.value !== undefined ? source.value : source.textContent;
    try {
      await navigator.clipboard.writeText(text);
      say("Copied.", "done");
    } catch (error) {
      say("Select the text and copy it: the browser did not allow copying from here.", "error");
    }
  }));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  examples.addEventListener("change", () => {
    const option = examples.selectedOptions[0];
    if (option && option.dataset.query) {
      setQuery(option.dataset.query);
      examples.value = option.value;
    }
  });
  form.querySelectorAll("button[data-download]").forEach((button) =>
    button.addEventListener("click", () => download(button.dataset.download)));
  if (!VIEWS.some((candidate) => candidate.id === view)) view = "table";
  showTabs(null);
  updateShare();
  if (form.dataset.runNow === "true") run();
}
