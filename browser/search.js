// The site search on every page: an ARIA combobox (input, listbox, options) suggesting things by label as one types;
// the server folds case, accents and umlaut spellings. Arrow keys move, Enter opens, Escape closes.
const KINDS = { alliance: "alliance", city: "city", municipality: "municipality", company: "company",
  organization: "organisation", agreement: "agreement", pilot: "pilot", person: "person", source: "source" };

export function installSearch(form) {
  const input = form.querySelector("input[role=combobox]");
  const list = form.querySelector("[role=listbox]");
  if (!input || !list) return;
  let options = [];
  let active = -1;
  let asked = 0;
  let timer = null;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    options.forEach((option, i) => option.setAttribute("aria-selected", i === index ? "true" : "false"));
    active = index;
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function show(items, text) {
    list.replaceChildren();
    options = items.map((item, index) => {
      const option = document.createElement("li");
      option.id = `${list.id}-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.href = `/doc/${item.type}/${item.key}`;
      const name = document.createElement("span");
      name.className = "label";
      name.textContent = item.label;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = KINDS[item.type] || item.type;
      option.append(name, " ", kind);
      option.addEventListener("mousedown", (event) => event.preventDefault());  // keeps the focus in the input
      option.addEventListener("click", () => { window.location.href = option.dataset.href; });
      list.append(option);
      return option;
    });
    if (options.length === 0) {
      const none = document.createElement("li");
      none.className = "none";
      none.setAttribute("role", "presentation");
      none.textContent = `Nothing is called “${text}”.`;
      list.append(none);
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    active = -1;
  }

  async function suggest() {
    const text = input.value.trim();
    const ticket = ++asked;
    if (text.length < 2) {
      close();
      return;
    }
    try {
      const response = await fetch(`/api/v1/search?${new URLSearchParams({ q: text, limit: "8" })}`,
        { headers: { Accept: "application/json" } });
      if (ticket !== asked) return;  // a later keystroke has asked again
      if (!response.ok) {
        close();
        return;
      }
      show((await response.json()).items || [], text);
    } catch (error) {
      close();
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, 120);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) {
        suggest();
        return;
      }
      if (!options.length) return;
      const step = event.key === "ArrowDown" ? 1 : active < 0 ? 0 : -1;
      highlight((active + step + options.length) % options.length);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      window.location.href = options[active].dataset.href;
    } else if (event.key === "Escape") {
      if (!list.hidden) {
        event.preventDefault();
        close();
      } else {
        input.value = "";
      }
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
}
