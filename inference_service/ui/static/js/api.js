// The public API, nothing else: the Elasticsearch face under /_inference and /_security. The
// API key lives in this tab's sessionStorage only and goes out as "Authorization: ApiKey".

const KEY = "inference-service-api-key";

export class ApiError extends Error {
  constructor(status, body) {
    const reason = body?.error?.reason || body?.error?.message || (typeof body === "string" ? body : "") || `HTTP ${status}`;
    super(reason);
    this.status = status;
    this.body = body;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function setApiKey(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

export function headers(extra = {}) {
  const out = { Accept: "application/json", ...extra };
  const key = apiKey();
  if (key) out.Authorization = `ApiKey ${key}`;
  return out;
}

export async function call(method, path, body, { signal, silent } = {}) {
  const init = { method, headers: headers(), signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = text;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text for the message
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !silent) window.dispatchEvent(new CustomEvent("unauthorized"));
    throw error;
  }
  return data;
}

export const enc = encodeURIComponent;

// Server-sent events from a POST (EventSource cannot POST): yields each event's parsed data.
export async function* streamEvents(path, body, signal) {
  const response = await fetch(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok) {
    const text = await response.text();
    let data = text;
    try {
      data = JSON.parse(text);
    } catch {
      // keep the text
    }
    throw new ApiError(response.status, data);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const lines = block.split("\n").filter((l) => l.startsWith("data:"));
      if (!lines.length) continue;
      const data = lines.map((l) => l.slice(5).replace(/^ /, "")).join("\n");
      if (data === "[DONE]") return;
      let parsed = data;
      try {
        parsed = JSON.parse(data);
      } catch {
        // a non-JSON event: handed over as text
      }
      const event = block.split("\n").find((l) => l.startsWith("event:"));
      if (event && event.slice(6).trim() === "error") throw new ApiError(500, parsed);
      yield parsed;
    }
  }
}
