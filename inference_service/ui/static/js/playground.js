// Try an endpoint: chat streams its answer token by token (stop, system prompt, temperature,
// max tokens; Markdown rendered safely; tool calls shown), completion, embeddings (dimensions and
// the inputs' cosine similarity matrix) and rerank (documents by score).

import { call, enc, streamEvents } from "./api.js";
import { h, clear, field, button, status } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { listEndpoints } from "./endpoints.js";

export async function playgroundView(view, id) {
  const endpoints = await listEndpoints();
  const picker = h("select", {}, h("option", { value: "" }, "Choose an endpoint"), endpoints.map((e) => h("option", { value: e.inference_id }, `${e.inference_id} (${e.task_type})`)));
  picker.value = id || "";
  picker.addEventListener("change", () => (location.hash = `#/playground/${enc(picker.value)}`));
  const area = h("div", { class: "playground" });
  clear(view, h("h2", {}, "Playground"), field("Endpoint", picker), area);
  const endpoint = endpoints.find((e) => e.inference_id === id);
  if (!id) return;
  if (!endpoint) return area.append(status(`No endpoint [${id}].`, "error"));
  const build = { chat_completion: chat, completion, text_embedding: embeddings, sparse_embedding: embeddings, rerank }[endpoint.task_type];
  build(area, endpoint);
}

function lines(text) {
  return text.split("\n").map((s) => s.trim()).filter(Boolean);
}

function chat(area, endpoint) {
  const history = [];
  const system = h("textarea", { rows: 2, name: "system" });
  const prompt = h("textarea", { rows: 3, name: "prompt", required: true });
  const temperature = h("input", { type: "number", min: 0, max: 2, step: 0.1, name: "temperature" });
  const maxTokens = h("input", { type: "number", min: 1, step: 1, name: "max_tokens" });
  const stop = h("input", { type: "text", name: "stop", placeholder: "e.g. END, ###" });
  const transcript = h("ol", { class: "transcript", "aria-live": "polite", "aria-label": "Conversation" });
  const send = h("button", { type: "submit" }, "Send");
  const stopButton = button("Stop", () => controller?.abort(), { disabled: true });
  const notice = h("div");
  let controller = null;

  const form = h(
    "form",
    { class: "card" },
    field("System prompt", system),
    h("div", { class: "row" }, field("Temperature", temperature), field("Max tokens", maxTokens), field("Stop sequences (comma-separated)", stop)),
    field("Message", prompt, { required: true, help: "Ctrl+Enter sends." }),
    h("div", { class: "buttons" }, send, stopButton, button("Clear conversation", () => {
      history.length = 0;
      clear(transcript);
    })),
    notice,
  );
  prompt.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(notice);
    const text = prompt.value.trim();
    if (!text) return notice.append(status("Type a message first.", "error"));
    history.push({ role: "user", content: text });
    transcript.append(h("li", { class: "user" }, h("strong", {}, "You"), renderMarkdown(text)));
    prompt.value = "";
    const body = { messages: [...(system.value.trim() ? [{ role: "system", content: system.value.trim() }] : []), ...history] };
    if (temperature.value) body.temperature = Number(temperature.value);
    if (maxTokens.value) body.max_completion_tokens = Number(maxTokens.value);
    if (stop.value.trim()) body.stop = stop.value.split(",").map((s) => s.trim()).filter(Boolean);
    const answer = h("div", { class: "answer", "data-chunks": "0" });
    const tools = h("div", { class: "tool-calls" });
    const item = h("li", { class: "assistant", "aria-busy": "true" }, h("strong", {}, "Assistant"), answer, tools);
    transcript.append(item);
    let content = "";
    let chunks = 0;
    const calls = [];
    controller = new AbortController();
    send.disabled = true;
    stopButton.disabled = false;
    try {
      for await (const chunk of streamEvents(`/_inference/chat_completion/${enc(endpoint.inference_id)}/_stream`, body, controller.signal)) {
        for (const choice of chunk.choices || []) {
          const delta = choice.delta || {};
          if (delta.content) content += delta.content;
          for (const call of delta.tool_calls || []) {
            const at = (calls[call.index ?? calls.length] ??= { id: "", name: "", arguments: "" });
            if (call.id) at.id = call.id;
            if (call.function?.name) at.name += call.function.name;
            if (call.function?.arguments) at.arguments += call.function.arguments;
          }
        }
        chunks += 1;
        answer.dataset.chunks = String(chunks);
        clear(answer, renderMarkdown(content));
        clear(tools, calls.filter(Boolean).map((c) => h("div", { class: "tool-call" }, h("span", {}, "Tool call "), h("code", {}, c.name), h("pre", {}, c.arguments))));
      }
      history.push({ role: "assistant", content });
    } catch (error) {
      if (error.name === "AbortError") item.append(h("p", { class: "muted" }, "Stopped."));
      else notice.append(status(error.message, "error"));
      if (content) history.push({ role: "assistant", content });
    } finally {
      item.setAttribute("aria-busy", "false");
      item.dataset.done = "true";
      controller = null;
      send.disabled = false;
      stopButton.disabled = true;
      prompt.focus();
    }
  });
  clear(area, transcript, form);
}

function completion(area, endpoint) {
  const input = h("textarea", { rows: 4, name: "input" });
  const out = h("div", { class: "result", "aria-live": "polite" });
  const form = h("form", { class: "card" }, field("Prompt", input, { required: true }), h("button", { type: "submit" }, "Complete"), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(out, status("Working…"));
    try {
      const answer = await call("POST", `/_inference/completion/${enc(endpoint.inference_id)}`, { input: input.value });
      clear(out, (answer.completion || []).map((c) => renderMarkdown(c.result)));
    } catch (error) {
      clear(out, status(error.message, "error"));
    }
  });
  clear(area, form);
}

function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k] || 0;
    const y = b[k] || 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

function embeddings(area, endpoint) {
  const input = h("textarea", { rows: 4, name: "inputs", placeholder: "One text per line" });
  const out = h("div", { class: "result", "aria-live": "polite" });
  const form = h("form", { class: "card" }, field("Inputs (one per line)", input, { required: true }), h("button", { type: "submit" }, "Embed"), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const texts = lines(input.value);
    if (!texts.length) return clear(out, status("Type at least one input.", "error"));
    clear(out, status("Working…"));
    try {
      const answer = await call("POST", `/_inference/${endpoint.task_type}/${enc(endpoint.inference_id)}`, { input: texts });
      const vectors = (answer[endpoint.task_type] || []).map((r) => r.embedding);
      const sparse = endpoint.task_type === "sparse_embedding";
      const size = sparse ? vectors.map((v) => Object.keys(v).length).join(", ") + " tokens" : `${vectors[0]?.length ?? 0} dimensions`;
      const head = h("tr", {}, h("td"), texts.map((t, i) => h("th", { scope: "col", title: t }, `#${i + 1}`)));
      const rows = texts.map((t, i) => h("tr", {}, h("th", { scope: "row", title: t }, `#${i + 1} ${t.slice(0, 40)}`), vectors.map((v, j) => {
        const score = cosine(vectors[i], v);
        return h("td", { class: `sim s${Math.max(0, Math.min(9, Math.round(score * 9)))}` }, score.toFixed(3));
      })));
      clear(out, h("p", { class: "dimensions" }, `${vectors.length} vectors, ${size}`), h("div", { class: "scroll" }, h("table", { class: "matrix" }, h("caption", {}, "Cosine similarity of the inputs"), h("thead", {}, head), h("tbody", {}, rows))));
    } catch (error) {
      clear(out, status(error.message, "error"));
    }
  });
  clear(area, form);
}

function rerank(area, endpoint) {
  const query = h("input", { type: "text", name: "query" });
  const docs = h("textarea", { rows: 5, name: "documents", placeholder: "One document per line" });
  const out = h("div", { class: "result", "aria-live": "polite" });
  const form = h("form", { class: "card" }, field("Query", query, { required: true }), field("Documents (one per line)", docs, { required: true }), h("button", { type: "submit" }, "Rerank"), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const texts = lines(docs.value);
    clear(out, status("Working…"));
    try {
      const answer = await call("POST", `/_inference/rerank/${enc(endpoint.inference_id)}`, { query: query.value, input: texts });
      const ranked = answer.rerank || [];
      clear(out, h("table", { class: "ranked" }, h("caption", {}, "Documents by relevance"), h("thead", {}, h("tr", {}, ["Rank", "Score", "Document"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, ranked.map((r, n) => h("tr", {}, h("td", {}, String(n + 1)), h("td", {}, Number(r.relevance_score).toFixed(4)), h("td", {}, r.text ?? texts[r.index]))))));
    } catch (error) {
      clear(out, status(error.message, "error"));
    }
  });
  clear(area, form);
}
