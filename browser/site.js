// What every page runs: the site search, the result views of a profile's panels, and an embedded query's view.
import { installSearch } from "./search.js";
import { context, element, renderView } from "./views.js";

document.querySelectorAll("form.site-search").forEach(installSearch);

const namespace = (document.querySelector("[data-namespace]") || document.documentElement).dataset.namespace || "";

// A profile's panel drawn in the browser (a map): its results travel in the page as SPARQL JSON.
document.querySelectorAll("[data-view][data-results]").forEach((target) => {
  const source = document.getElementById(target.dataset.results);
  if (!source) return;
  renderView(target.dataset.view, JSON.parse(source.textContent), target, context(target.dataset.namespace || namespace, ""));
});

// An embedded view (/embed?query=...&view=...): runs the query and shows the one view asked for.
const embed = document.getElementById("embed");
if (embed) {
  (async () => {
    const status = document.getElementById("embed-status");
    try {
      const response = await fetch(embed.dataset.endpoint, {
        method: "POST",
        headers: { Accept: "application/sparql-results+json", "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ query: embed.dataset.query }),
      });
      if (!response.ok) {
        status.textContent = `The query could not be run (${response.status}): ${(await response.text()).slice(0, 300)}`;
        return;
      }
      const data = await response.json();
      if (typeof data.boolean === "boolean") {
        embed.replaceChildren(element("p", { class: "boolean" }, String(data.boolean)));
      } else {
        await renderView(embed.dataset.view, data, embed, context(namespace, embed.dataset.query));
      }
      status.textContent = "";
    } catch (error) {
      status.textContent = "The endpoint could not be reached.";
    }
  })();
}
