// API keys: list, create (the key is shown once, with a copy button) and invalidate, through
// /_security/api_key as the Elasticsearch client uses it.

import { call } from "./api.js";
import { h, clear, field, button, status } from "./dom.js";

const ROLES = {
  "": null,
  manage: { ui: { cluster: ["manage_inference"] } },
  monitor: { ui: { cluster: ["monitor_inference"] } },
  infer: null, // built from the endpoints field
};

function date(ms) {
  return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "";
}

export async function keysView(view) {
  const list = h("div", { class: "scroll" });
  const notice = h("div", { "aria-live": "polite" });
  const name = h("input", { type: "text", name: "name", required: true });
  const expiration = h("input", { type: "text", name: "expiration", placeholder: "e.g. 30d (empty: never)" });
  const role = h("select", { name: "role" }, h("option", { value: "" }, "Same as mine"), h("option", { value: "manage" }, "manage"), h("option", { value: "monitor" }, "monitor"), h("option", { value: "infer" }, "infer"));
  const scope = h("input", { type: "text", name: "endpoints", placeholder: "e.g. chat-*, e5 (empty: all)" });
  const nameField = field("Name", name, { required: true });
  const form = h("form", { class: "card" }, h("h3", {}, "Create a key"), h("div", { class: "row" }, nameField, field("Expiration", expiration), field("Role", role), field("Endpoints (comma-separated)", scope)), h("button", { type: "submit" }, "Create key"));

  async function refresh() {
    const keys = (await call("GET", "/_security/api_key")).api_keys || [];
    clear(list, h("table", { class: "keys" }, h("caption", {}, "API keys"), h("thead", {}, h("tr", {}, ["Name", "ID", "Created", "Expires", "State", "Actions"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, keys.map(row))));
  }

  function row(key) {
    const state = key.invalidated ? "invalidated" : key.expiration && key.expiration < Date.now() ? "expired" : "active";
    return h(
      "tr",
      { "data-id": key.id },
      h("th", { scope: "row" }, key.name || "(unnamed)"),
      h("td", {}, h("code", {}, key.id)),
      h("td", {}, date(key.creation)),
      h("td", {}, date(key.expiration) || "never"),
      h("td", {}, state),
      h("td", {}, state === "active" ? button("Invalidate", () => invalidate(key), { class: "danger", "aria-label": `Invalidate ${key.name || key.id}` }) : null),
    );
  }

  async function invalidate(key) {
    if (!window.confirm(`Invalidate the key ${key.name || key.id}? Clients using it are refused from now on.`)) return;
    try {
      await call("DELETE", "/_security/api_key", { ids: [key.id] });
      clear(notice, status(`Invalidated ${key.name || key.id}.`));
      await refresh();
    } catch (error) {
      clear(notice, status(error.message, "error"));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    nameField.showError("");
    if (!name.value.trim()) {
      nameField.showError("A name is required.");
      name.focus();
      return;
    }
    const body = { name: name.value.trim() };
    if (expiration.value.trim()) body.expiration = expiration.value.trim();
    const endpoints = scope.value.split(",").map((s) => s.trim()).filter(Boolean);
    if (role.value === "infer") {
      const app = { application: "inference-service", privileges: ["infer"] };
      if (endpoints.length) app.resources = endpoints;
      body.role_descriptors = { ui: { applications: [app] } };
    } else if (ROLES[role.value]) body.role_descriptors = ROLES[role.value];
    try {
      const made = await call("POST", "/_security/api_key", body);
      const secret = h("input", { type: "text", readonly: true, value: made.encoded, class: "secret", "aria-label": "The new key (encoded)" });
      const copied = h("span", { role: "status" });
      const copy = button("Copy", async () => {
        secret.select();
        try {
          await navigator.clipboard.writeText(made.encoded);
        } catch {
          document.execCommand("copy");
        }
        copied.textContent = "Copied.";
      });
      clear(notice, h("div", { class: "card once", role: "region", "aria-label": "New key" }, h("p", {}, `Key ${made.name} created. Copy it now: it is not shown again.`), h("div", { class: "row" }, secret, copy, copied)));
      form.reset();
      copy.focus();
      await refresh();
    } catch (error) {
      clear(notice, status(error.message, "error"));
    }
  });
  clear(view, h("h2", {}, "API keys"), notice, form, list);
  await refresh();
}
