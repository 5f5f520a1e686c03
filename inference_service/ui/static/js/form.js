// Create and edit an endpoint with a form drawn from GET /_inference/_services: one control per
// setting the chosen service takes for the chosen task type, required ones marked, secrets as
// write-only password fields. The service validates; its messages go next to the fields they name.

import { call, enc } from "./api.js";
import { h, clear, field, status } from "./dom.js";

function flatten(settings, prefix = "", out = {}) {
  for (const [key, value] of Object.entries(settings || {})) {
    out[prefix + key] = value; // a map setting keeps its object, and (below) gets its dotted parts
    if (value && typeof value === "object" && !Array.isArray(value)) flatten(value, `${prefix}${key}.`, out);
  }
  return out;
}

function nest(flat) {
  const out = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split(".");
    let at = out;
    for (const part of parts.slice(0, -1)) at = at[part] ??= {};
    at[parts.at(-1)] = value;
  }
  return out;
}

function control(key, conf, stored) {
  const has = stored !== undefined;
  if (conf.type === "bool") return h("input", { type: "checkbox", name: key, checked: has ? stored : conf.default_value });
  if (conf.type === "list" || conf.type === "map")
    return h("textarea", { name: key, rows: 3, spellcheck: "false", placeholder: conf.type === "list" ? '["…"]' : '{"…": "…"}' }, has ? JSON.stringify(stored, null, 1) : "");
  const attrs = { name: key, type: conf.sensitive ? "password" : conf.type === "int" ? "number" : "text", spellcheck: "false" };
  if (conf.sensitive) {
    attrs.autocomplete = "new-password";
    if (stored === null) attrs.placeholder = "unchanged — type a new value to replace it";
  } else if (has) attrs.value = String(stored);
  if (!has && conf.default_value !== undefined) attrs.placeholder = `default: ${conf.default_value}`;
  return h("input", attrs);
}

function readValue(el, conf) {
  if (conf.type === "bool") return el.checked;
  const raw = el.value.trim();
  if (raw === "") return undefined;
  if (conf.type === "int") return Number.isInteger(Number(raw)) ? Number(raw) : raw;
  if (conf.type === "list" || conf.type === "map") {
    try {
      return JSON.parse(raw);
    } catch {
      throw Object.assign(new Error("not valid JSON"), { key: el.name });
    }
  }
  return raw;
}

// "Validation Failed: 1: [service_settings] does not contain the required setting [model_id];2: ..."
export function splitReasons(reason) {
  const body = reason.replace(/^Validation Failed:\s*/, "");
  const parts = body.split(/;?\s*\d+: /).map((s) => s.replace(/;$/, "").trim()).filter(Boolean);
  return parts.length ? parts : [reason];
}

export async function formView(view, editId) {
  const services = await call("GET", "/_inference/_services");
  const current = editId ? (await call("GET", `/_inference/${enc(editId)}`)).endpoints[0] : null;
  const idInput = h("input", { name: "inference_id", required: true, pattern: "[a-z0-9][a-z0-9_.\\-]*", spellcheck: "false", value: editId || "", disabled: Boolean(editId) });
  const serviceSelect = h("select", { name: "service", disabled: Boolean(editId) }, services.map((s) => h("option", { value: s.service }, s.name)));
  const taskSelect = h("select", { name: "task_type", disabled: Boolean(editId) });
  const settingsBox = h("fieldset", {}, h("legend", {}, "Service settings"));
  const taskSettings = h("textarea", { name: "task_settings", rows: 3, spellcheck: "false", placeholder: '{"user": "…"}' }, current?.task_settings ? JSON.stringify(current.task_settings, null, 1) : "");
  const taskField = field("Task settings (JSON)", taskSettings, { help: "Optional; sent with every request unless the request overrides them." });
  const notice = h("div");
  const submit = h("button", { type: "submit" }, editId ? "Save changes" : "Create endpoint");
  const idField = field("Inference ID", idInput, { required: true, help: "Lowercase letters, digits, - and _." });
  let controls = {};

  if (current) {
    serviceSelect.value = current.service;
  }
  function service() {
    return services.find((s) => s.service === serviceSelect.value);
  }
  function fillTasks() {
    const s = service();
    clear(taskSelect, (s?.task_types || []).map((t) => h("option", { value: t }, t)));
    if (current) clear(taskSelect, h("option", { value: current.task_type }, current.task_type));
  }
  function fillSettings() {
    const s = service();
    const task = taskSelect.value;
    const stored = current ? flatten(current.service_settings) : {};
    controls = {};
    clear(settingsBox, h("legend", {}, `Service settings for ${s.name}`));
    const entries = Object.entries(s.configurations).filter(([, c]) => c.supported_task_types.includes(task));
    entries.sort(([a, x], [b, y]) => Number(y.required) - Number(x.required) || a.localeCompare(b));
    for (const [key, conf] of entries) {
      const storedValue = conf.sensitive ? (current ? null : undefined) : stored[key];
      const el = control(key, conf, storedValue);
      const wrap = field(conf.label, el, { help: conf.description, required: conf.required && !(current && conf.sensitive) });
      wrap.dataset.setting = key;
      controls[key] = { el, conf, wrap, initial: storedValue };
      settingsBox.append(wrap);
    }
  }
  serviceSelect.addEventListener("change", () => {
    fillTasks();
    fillSettings();
  });
  taskSelect.addEventListener("change", fillSettings);
  fillTasks();
  fillSettings();

  function clearErrors() {
    clear(notice);
    idField.showError("");
    taskField.showError("");
    for (const c of Object.values(controls)) c.wrap.showError("");
  }

  function showErrors(reason) {
    const left = [];
    const keys = Object.keys(controls).sort((a, b) => b.length - a.length);
    for (const message of splitReasons(reason)) {
      const named = [...message.matchAll(/\[([A-Za-z0-9_.]+)\]/g)].map((m) => m[1]);
      const key = keys.find((k) => named.some((n) => n === k || k.startsWith(n + ".") || n.startsWith(k + ".")));
      if (key) {
        const wrap = controls[key].wrap;
        wrap.showError([wrap.querySelector(".field-error").textContent, message].filter(Boolean).join(" "));
      } else if (/inference_id/.test(message)) idField.showError(message);
      else left.push(message);
    }
    if (left.length) notice.append(status(left.join(" "), "error"));
    const first = view.querySelector("[aria-invalid=true]");
    if (first) first.focus();
  }

  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h2", {}, editId ? `Edit ${editId}` : "Create an endpoint"),
    notice,
    h("div", { class: "row" }, idField, field("Service", serviceSelect), field("Task type", taskSelect)),
    settingsBox,
    taskField,
    h("div", { class: "buttons" }, submit, h("a", { href: "#/endpoints" }, "Cancel")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const values = {};
    try {
      for (const [key, c] of Object.entries(controls)) {
        const value = readValue(c.el, c.conf);
        if (value === undefined) continue;
        if (current && !c.conf.sensitive && JSON.stringify(value) === JSON.stringify(c.initial)) continue;
        if (c.conf.type === "bool" && c.initial === undefined && value === Boolean(c.conf.default_value)) continue;
        values[key] = value;
      }
    } catch (error) {
      controls[error.key].wrap.showError(`${controls[error.key].conf.label}: ${error.message}`);
      return;
    }
    let task;
    try {
      task = taskSettings.value.trim() ? JSON.parse(taskSettings.value) : undefined;
    } catch {
      taskField.showError("Task settings: not valid JSON");
      return;
    }
    if (!editId && !idInput.value.trim()) {
      idField.showError("An inference ID is required.");
      idInput.focus();
      return;
    }
    const body = { service_settings: nest(values) };
    if (task !== undefined) body.task_settings = task;
    submit.disabled = true;
    try {
      if (editId) await call("PUT", `/_inference/${enc(editId)}/_update`, body);
      else await call("PUT", `/_inference/${enc(taskSelect.value)}/${enc(idInput.value.trim())}`, { service: serviceSelect.value, ...body });
      location.hash = "#/endpoints";
    } catch (error) {
      showErrors(error.message);
    } finally {
      submit.disabled = false;
    }
  });
  clear(view, form);
}
