// The site search on every page: an ARIA combobox (input, listbox, options) suggesting things by label as one types;
// the server folds case, accents and umlaut spellings. Arrow keys move, Enter opens, Escape closes.

export function installSearch(form) {
  const input = form.querySelector("input[role=combobox]");
  const list = form.querySelector("[role=listbox]");
  const status = form.querySelector("[role=status]");
  if (!input || !list) return;
  let options = [];
  let active = -1;
  let asked = 0;
  let timer = null;

  function close() {
    list.hidden = true;
    if (status) status.hidden = true;
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
      option.dataset.href = item.page;  // the page's path, as the service maps the thing's IRI
      const name = document.createElement("span");
      name.className = "label";
      name.textContent = item.label;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = item.type; // the type's name as the /search page shows it
      option.append(name, " ", kind);
      option.addEventListener("mousedown", (event) => event.preventDefault());  // keeps the focus in the input
      option.addEventListener("click", () => { window.location.href = option.dataset.href; });
      list.append(option);
      return option;
    });
    active = -1;
    input.removeAttribute("aria-activedescendant");
    // No match: a listbox needs options, so it stays closed and the status says so.
    if (status) {
      status.textContent = options.length ? "" : `Nothing is called “${text}”.`;
      status.hidden = options.length > 0;
    }
    list.hidden = options.length === 0;
    input.setAttribute("aria-expanded", options.length ? "true" : "false");
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
      const items = (await response.json()).items || [];
      if (ticket !== asked || input.value.trim() !== text) return;  // answers to older inputs are not shown
      show(items, text);
    } catch (error) {
      close();
    }
  }

  input.addEventListener("input", () => {
    // The suggestions on show were for the text before: Enter must not open one of them.
    asked += 1;
    options = [];
    close();
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
    } else if (event.key === "Tab") {
      close();  // Tab leaves the search for the next control, not into the list
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
