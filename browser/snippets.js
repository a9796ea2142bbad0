// The code that runs the editor's query elsewhere: Python (SPARQLWrapper, pandas), R, curl and JavaScript.

function python(text) {
  return text.replace(/\\/g, "\\\\").replace(/"""/g, '\\"\\"\\"');
}

function javascript(text) {
  return text.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${");
}

// R's raw string r"--(...)--" ends at ")--\"" with as many dashes as it began: one more than any run in the query.
function rDashes(text) {
  return "-".repeat(Math.max(0, ...(text.match(/-+/g) || []).map((run) => run.length)) + 1);
}

// The heredoc ends at a line holding only its word: a word no line of the query is.
function heredocWord(text) {
  const lines = new Set(text.split(/\r?\n/).map((line) => line.trim()));
  let word = "SPARQL";
  for (let n = 1; lines.has(word); n += 1) word = `SPARQL_${n}`;
  return word;
}

export function snippets(endpoint, query) {
  const q = query.endsWith("\n") ? query : query + "\n";
  const dashes = rDashes(q);
  const word = heredocWord(q);
  return [
    { id: "python", name: "Python (SPARQLWrapper)", code: `from SPARQLWrapper import JSON, SPARQLWrapper

sparql = SPARQLWrapper("${endpoint}")
sparql.setQuery("""
${python(q)}""")
sparql.setReturnFormat(JSON)
for row in sparql.queryAndConvert()["results"]["bindings"]:
    print({name: term["value"] for name, term in row.items()})
` },
    { id: "pandas", name: "Python (pandas)", code: `from urllib.parse import urlencode

import pandas as pd

query = """
${python(q)}"""
frame = pd.read_csv("${endpoint}?" + urlencode({"query": query}), storage_options={"Accept": "text/csv"})
print(frame)
` },
    { id: "r", name: "R", code: `library(httr)

query <- r"${dashes}(
${q})${dashes}"
response <- POST("${endpoint}", body = list(query = query), encode = "form", accept("text/csv"))
stop_for_status(response)
results <- read.csv(text = content(response, as = "text", encoding = "UTF-8"))
print(results)
` },
    { id: "curl", name: "curl", code: `curl --fail -H 'Accept: text/csv' --data-urlencode query@- '${endpoint}' <<'${word}'
${q}${word}
` },
    { id: "js", name: "JavaScript", code: `const query = \`
${javascript(q)}\`;
const response = await fetch("${endpoint}", {
  method: "POST",
  headers: { Accept: "application/sparql-results+json", "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ query }),
});
const { results } = await response.json();
console.table(results.bindings.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v.value]))));
` },
  ];
}
