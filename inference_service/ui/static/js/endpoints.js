// The endpoints table: search, filter by task type and service, preconfigured (".") endpoints
// read-only; delete asks first and names the routers that target the endpoint (DELETE dry_run).

import { call, enc } from "./api.js";
import { h, clear, field, button, status } from "./dom.js";

export function modelOf(endpoint) {
  const s = endpoint.service_settings || {};
  if (s.model_id || s.model) return s.model_id || s.model;
  if (Array.isArray(s.targets)) return "→ " + s.targets.map((t) => t.inference_id || t.id || "?").join(", ");
  return s.deployment_id || s.resource_name || "";
}

export const readOnly = (id) => id.startsWith(".");

export async function listEndpoints() {
  return (await call("GET", "/_inference/_all")).endpoints || [];
}

// When each endpoint was created: Elasticsearch's listing has no date, the OpenAI face's model
// list has it ("created", epoch seconds), for the same endpoints the same key may read.
export async function createdTimes() {
  const models = await call("GET", "/v1/models");
  return new Map((models.data || []).map((m) => [m.id, m.created]));
}

export function createdText(id, created) {
  if (readOnly(id)) return "preconfigured";
  if (!created) return "";
  return new Date(created * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

export async function endpointsView(view) {
  const [endpoints, created] = await Promise.all([listEndpoints(), createdTimes()]);
  const search = h("input", { type: "search", placeholder: "id, service or model" });
  const taskSelect = h("select", {}, h("option", { value: "" }, "All task types"));
  const serviceSelect = h("select", {}, h("option", { value: "" }, "All services"));
  for (const t of [...new Set(endpoints.map((e) => e.task_type))].sort()) taskSelect.append(h("option", { value: t }, t));
  for (const s of [...new Set(endpoints.map((e) => e.service))].sort()) serviceSelect.append(h("option", { value: s }, s));
  const body = h("tbody");
  const count = h("p", { role: "status", class: "count" });
  const notice = h("div");
  const table = h(
    "table",
    { class: "endpoints" },
    h("caption", {}, "Inference endpoints"),
    h("thead", {}, h("tr", {}, ["ID", "Task type", "Service", "Model", "Created", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
    body,
  );

  function render() {
    const q = search.value.trim().toLowerCase();
    const shown = endpoints.filter(
      (e) =>
        (!taskSelect.value || e.task_type === taskSelect.value) &&
        (!serviceSelect.value || e.service === serviceSelect.value) &&
        (!q || [e.inference_id, e.service, modelOf(e)].some((v) => String(v).toLowerCase().includes(q))),
    );
    clear(body, shown.map(row));
    count.textContent = `${shown.length} of ${endpoints.length} endpoints`;
  }

  function row(e) {
    const id = e.inference_id;
    const actions = h("td", { class: "actions" }, h("a", { href: `#/playground/${enc(id)}` }, "Try"));
    if (readOnly(id)) actions.append(h("span", { class: "badge", title: "Preconfigured endpoints cannot be changed" }, "read-only"));
    else
      actions.append(
        h("a", { href: `#/endpoints/edit/${enc(id)}`, "aria-label": `Edit ${id}` }, "Edit"),
        button("Delete", () => confirmDelete(e), { class: "danger", "aria-label": `Delete ${id}` }),
      );
    actions.dataset.label = "Actions";
    const cell = (label, text) => h("td", { "data-label": label }, text);
    return h("tr", { "data-id": id }, h("th", { scope: "row" }, id), cell("Task type", e.task_type), cell("Service", e.service), cell("Model", modelOf(e)), cell("Created", createdText(id, created.get(id))), actions);
  }

  async function confirmDelete(e) {
    const id = e.inference_id;
    let routers = [];
    let hidden = 0;
    try {
      const plan = await call("DELETE", `/_inference/${enc(id)}?dry_run=true`);
      routers = plan.routers || [];
      hidden = plan.routers_outside_api_key || 0;
    } catch (error) {
      clear(notice, status(error.message, "error"));
      return;
    }
    const dialog = h("dialog", { class: "card", "aria-labelledby": "delete-title" });
    const close = () => {
      dialog.close();
      dialog.remove();
    };
    const targeted = routers.length > 0 || hidden > 0;
    const ok = button(targeted ? "Delete anyway" : "Delete", async () => {
      try {
        await call("DELETE", `/_inference/${enc(id)}${targeted ? "?force=true" : ""}`);
        close();
        endpoints.splice(endpoints.indexOf(e), 1);
        render();
        clear(notice, status(`Deleted ${id}.`));
      } catch (error) {
        dialog.append(status(error.message, "error"));
      }
    }, { class: "danger" });
    append(dialog, [
      h("h3", { id: "delete-title" }, `Delete ${id}?`),
      targeted
        ? [
            h("p", {}, "These routers target it and would lose a target:"),
            h("ul", { class: "routers" }, [
              ...routers.map((r) => h("li", {}, r)),
              ...(hidden ? [h("li", {}, `${hidden} outside this API key's endpoints`)] : []),
            ]),
          ]
        : h("p", {}, "No router targets it."),
      h("div", { class: "buttons" }, ok, button("Cancel", close)),
    ]);
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    ok.focus();
  }

  for (const control of [search, taskSelect, serviceSelect]) control.addEventListener("input", render);
  clear(
    view,
    h("div", { class: "title" }, h("h2", {}, "Endpoints"), h("a", { class: "button", href: "#/endpoints/new" }, "Create endpoint")),
    notice,
    h("div", { class: "filters" }, field("Search", search), field("Task type", taskSelect), field("Service", serviceSelect)),
    count,
    h("div", { class: "scroll" }, table),
  );
  render();
}

function append(el, children) {
  for (const c of children.flat(Infinity)) if (c) el.append(c);
}
