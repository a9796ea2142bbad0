// The code that runs the editor's query elsewhere: Python (SPARQLWrapper, pandas), R, curl and JavaScript.

function python(text) {
  return text.replace(/\\/g, "\\\\").replace(/"""/g, '\\"\\"\\"');
}

function javascript(text) {
  return text.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${");
}

export function snippets(endpoint, query) {
  const q = query.endsWith("\n") ? query : query + "\n";
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

query <- r"-----(
${q})-----"
response <- POST("${endpoint}", body = list(query = query), encode = "form", accept("text/csv"))
stop_for_status(response)
results <- read.csv(text = content(response, as = "text", encoding = "UTF-8"))
print(results)
` },
    { id: "curl", name: "curl", code: `curl --fail -H 'Accept: text/csv' --data-urlencode query@- '${endpoint}' <<'SPARQL'
${q}SPARQL
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
