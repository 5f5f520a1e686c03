// Tokens and requests per endpoint over time (GET /_inference/_usage), drawn with uPlot and
// listed in a table (the same numbers, for screen readers and copying).

import uPlot from "../vendor/uplot-1.6.32/uPlot.esm.js";
import { call } from "./api.js";
import { h, clear, field, status } from "./dom.js";

const SPANS = { "now-1d": 86400, "now-7d": 7 * 86400, "now-30d": 30 * 86400 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

export async function usageView(view) {
  const since = h("select", {}, [["now-1d", "Last day"], ["now-7d", "Last 7 days"], ["now-30d", "Last 30 days"]].map(([v, t]) => h("option", { value: v }, t)));
  const interval = h("select", {}, h("option", { value: "hour" }, "Hourly"), h("option", { value: "day" }, "Daily"));
  const metric = h("select", {}, h("option", { value: "tokens" }, "Tokens (input + output)"), h("option", { value: "requests" }, "Requests"), h("option", { value: "errors" }, "Errors"));
  const chart = h("div", { class: "chart", role: "img", "aria-label": "Usage chart" });
  const table = h("div", { class: "scroll" });
  const notice = h("div");
  let plot = null;

  async function load() {
    clear(notice);
    let data;
    try {
      data = await call("GET", `/_inference/_usage?since=${since.value}&interval=${interval.value}`);
    } catch (error) {
      notice.append(status(error.message, "error"));
      return;
    }
    const value = (u) => (metric.value === "tokens" ? u.input_tokens + u.output_tokens : u[metric.value]);
    const periods = [...new Set(data.usage.map((u) => u.period))].sort();
    const ids = [...new Set(data.usage.map((u) => u.inference_id))].sort();
    const series = ids.map((id) => periods.map((p) => data.usage.filter((u) => u.inference_id === id && u.period === p).reduce((n, u) => n + value(u), 0)));
    plot?.destroy();
    plot = null;
    clear(chart);
    if (!periods.length) {
      chart.append(h("p", { class: "muted" }, "No usage recorded in this period yet."));
    } else {
      const width = Math.max(280, Math.min(chart.clientWidth || 900, 1200));
      plot = new uPlot(
        {
          width,
          height: 300,
          // the period asked for, whole: one hour of data is a point in a day, not the whole axis
          scales: { x: { time: true, range: () => [Date.now() / 1000 - SPANS[since.value], Date.now() / 1000] } },
          series: [{ label: "Period" }, ...ids.map((id, i) => ({ label: id, stroke: COLORS[i % COLORS.length], width: 2, points: { show: true } }))],
          axes: [{}, { label: metric.options[metric.selectedIndex].text }],
        },
        [periods.map((p) => Date.parse(p) / 1000), ...series],
        chart,
      );
      chart.dataset.series = String(ids.length);
    }
    const totals = ids.map((id) => data.usage.filter((u) => u.inference_id === id).reduce((t, u) => ({ requests: t.requests + u.requests, errors: t.errors + u.errors, input: t.input + u.input_tokens, output: t.output + u.output_tokens }), { requests: 0, errors: 0, input: 0, output: 0 }));
    clear(table, h("table", { class: "usage" }, h("caption", {}, "Totals per endpoint"), h("thead", {}, h("tr", {}, ["Endpoint", "Requests", "Errors", "Input tokens", "Output tokens"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, ids.map((id, i) => h("tr", {}, h("th", { scope: "row" }, id), [totals[i].requests, totals[i].errors, totals[i].input, totals[i].output].map((n) => h("td", {}, String(n))))))));
  }
  for (const c of [since, interval, metric]) c.addEventListener("change", load);
  clear(view, h("h2", {}, "Usage"), h("div", { class: "filters" }, field("Period", since), field("Interval", interval), field("Show", metric)), notice, chart, table);
  await load();
}
