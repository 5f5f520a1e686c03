// Building DOM nodes without HTML strings: text always goes in as text, so nothing an endpoint,
// a model or a user typed can ever run as markup (the page's CSP forbids inline script anyway).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "value") el.value = value;
    else if (key === "checked") el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let ids = 0;
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

// A labelled control: <div class="field"><label for=..>..</label>control<small>help</small><p error></p></div>
export function field(labelText, control, { help, required } = {}) {
  if (!control.id) control.id = uid("f");
  const error = h("p", { class: "field-error", id: control.id + "-error", role: "alert" });
  control.setAttribute("aria-describedby", control.id + "-error" + (help ? " " + control.id + "-help" : ""));
  const wrap = h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, labelText, required ? h("span", { class: "required", title: "required" }, " *") : null),
    control,
    help ? h("small", { id: control.id + "-help" }, help) : null,
    error,
  );
  wrap.showError = (message) => {
    error.textContent = message || "";
    control.setAttribute("aria-invalid", message ? "true" : "false");
  };
  return wrap;
}

export function button(text, onclick, attrs = {}) {
  return h("button", { type: "button", onclick, ...attrs }, text);
}

export function status(text, kind = "info") {
  return h("p", { class: `status ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}
