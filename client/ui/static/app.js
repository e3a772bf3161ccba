// memento ui: a hash-routed page over the JSON API. Text goes in as text (never as HTML); charts are SVG.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]; // Okabe-Ito
const SVGNS = "http://www.w3.org/2000/svg";
const TRIM = 2000; // characters of a tool result shown before "show all"
let streams = []; // open EventSources, closed when the page changes

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Replace an element's children; nulls (a part left out) are skipped and nested lists flattened.
function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const enc = encodeURIComponent;
const fmt = (v, d = 3) => (v === null || v === undefined ? "–" : typeof v === "number" ? v.toFixed(d) : String(v));
const link = (href, text, attrs = {}) => h("a", { href, ...attrs }, text);
const runLink = (run) => link(`#/run/${enc(run)}`, run);
const caseLink = (id) => link(`#/case/${enc(id)}`, id.length > 12 ? `${id.slice(0, 10)}…` : id, { "data-case": id, title: id });
const secs = (v) => (v === null || v === undefined ? "–" : `${Number(v).toFixed(1)} s`);

async function api(path, options = {}) {
  const init = { ...options, headers: { ...(options.headers || {}) } };
  if (init.body !== undefined) {
    init.method = init.method || "POST";
    init.headers["content-type"] = "application/json";
    init.headers["x-csrf-token"] = CSRF;
    init.body = JSON.stringify(init.body);
  }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message || "";
  box.hidden = !message;
}

function table(headers, rows, attrs = {}) {
  const head = h("tr", {}, headers.map((x) => h("th", { class: /^(n|EM|F1|PM|reward|cost|tokens|time|similarity|score|utility|failed|missing|steps|loss)$/.test(x) ? "num" : null }, x)));
  return h("table", attrs, h("thead", {}, head), h("tbody", {}, rows));
}

function numCell(v, d = 3) {
  return h("td", { class: "num" }, fmt(v, d));
}

function progressBar(done, planned) {
  const bar = h("span", {});
  bar.style.width = `${planned ? Math.round((100 * done) / planned) : 0}%`;
  return h("span", { class: "bar", role: "progressbar", "aria-valuenow": String(done), "aria-valuemax": String(planned) }, bar);
}

// ---- charts -------------------------------------------------------------------------------

// series: [{label, colour, dashed, points: [[x, y], ...]}]; draws axes, ticks, lines, dots and a legend.
function lineChart(series, { xlabel = "iteration", ylabel = "score", ymin = 0, ymax = 1, width = 640, height = 280, integerX = true } = {}) {
  const pad = { l: 48, r: 14, t: 12, b: 36 };
  const xs = series.flatMap((one) => one.points.map((p) => p[0]));
  const ys = series.flatMap((one) => one.points.map((p) => p[1]));
  let [x0, x1] = [Math.min(...xs, 1), Math.max(...xs, 1)];
  if (x0 === x1) { x0 -= 0.5; x1 += 0.5; }
  if (ymax === null) { ymin = Math.min(...ys, 0); ymax = Math.max(...ys, 1e-9) * 1.1; }
  const X = (x) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const Y = (y) => height - pad.b - ((y - ymin) / (ymax - ymin)) * (height - pad.t - pad.b);
  const svg = s("svg", { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${ylabel} by ${xlabel}` });
  for (let i = 0; i <= 4; i++) {
    const y = ymin + ((ymax - ymin) * i) / 4;
    svg.append(s("line", { x1: pad.l, x2: width - pad.r, y1: Y(y), y2: Y(y), stroke: "#e3e7ec" }));
    svg.append(s("text", { x: pad.l - 6, y: Y(y) + 4, "text-anchor": "end" }, y.toPrecision(2)));
  }
  const ticks = integerX ? [...new Set(xs)].sort((a, b) => a - b) : [x0, (x0 + x1) / 2, x1];
  for (const x of ticks) svg.append(s("text", { x: X(x), y: height - pad.b + 16, "text-anchor": "middle" }, integerX ? x : Number(x.toPrecision(3))));
  svg.append(s("text", { x: (width + pad.l) / 2, y: height - 4, "text-anchor": "middle" }, xlabel));
  svg.append(s("text", { x: 12, y: (height - pad.b) / 2, transform: `rotate(-90 12 ${(height - pad.b) / 2})`, "text-anchor": "middle" }, ylabel));
  svg.append(s("line", { x1: pad.l, x2: pad.l, y1: pad.t, y2: height - pad.b, stroke: "#777" }));
  svg.append(s("line", { x1: pad.l, x2: width - pad.r, y1: height - pad.b, y2: height - pad.b, stroke: "#777" }));
  for (const one of series) {
    const points = one.points.filter((p) => p[1] !== null && p[1] !== undefined);
    if (!points.length) continue;
    const d = points.map((p, i) => `${i ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" ");
    svg.append(s("path", { d, fill: "none", stroke: one.colour, "stroke-width": 2, "stroke-dasharray": one.dashed ? "6 4" : "none", "data-series": one.label }));
    for (const p of points) {
      const dot = s("circle", { cx: X(p[0]), cy: Y(p[1]), r: one.dashed ? 5 : 3.5, fill: one.dashed ? "#fff" : one.colour, stroke: one.colour, "stroke-width": 1.5 });
      dot.append(s("title", {}, `${one.label}: ${fmt(p[1])} at ${xlabel} ${p[0]}`));
      svg.append(dot);
    }
  }
  const legend = h("div", { class: "legend" }, series.map((one) => h("span", {}, h("span", { class: `swatch${one.dashed ? " dashed" : ""}`, style: null }), one.label)));
  legend.querySelectorAll(".swatch").forEach((sw, i) => { sw.style.borderTopColor = series[i].colour; });
  return h("div", { class: "chart-box" }, svg, legend);
}

function curves(details) {
  const series = [];
  details.forEach((d, n) => {
    const colour = COLOURS[n % COLOURS.length];
    const label = `${d.run} (memory ${d.config.memory ?? "?"})`;
    for (const [metric, dashed] of [["em", false], ["f1", true]]) {
      series.push({ label: `${metric.toUpperCase()} · ${label}`, colour, dashed, points: d.summaries.map((x) => [x.iteration, x.overall[metric] ?? null]) });
    }
  });
  return lineChart(series);
}

// ---- pages --------------------------------------------------------------------------------

async function pageRuns(main) {
  const rows = await api("/api/runs");
  const picked = new Set();
  const compare = h("button", { id: "compare", disabled: true, onclick: () => { const [a, b] = [...picked]; location.hash = `#/compare/${enc(a)}/${enc(b)}`; } }, "Compare the two selected runs");
  const body = rows.map((r) => {
    const box = h("input", { type: "checkbox", "aria-label": `select ${r.run}`, onchange: (e) => { e.target.checked ? picked.add(r.run) : picked.delete(r.run); compare.disabled = picked.size !== 2; } });
    const progressOf = (p) => [progressBar(p.done, p.planned), ` ${p.done}/${p.planned}`, p.running.length ? h("div", { class: "muted now" }, "now: ", p.running.map((t) => t.question).join(" · ")) : null];
    const progress = h("td", { class: "progress" }, progressOf(r));
    const status = h("span", { class: `badge ${r.status}` }, r.status);
    if (r.status === "running") follow(r.run, (p) => { progress.replaceChildren(...progressOf(p).filter(Boolean)); status.textContent = p.status; status.className = `badge ${p.status}`; });
    return h("tr", { "data-run": r.run }, h("td", {}, box), h("td", {}, runLink(r.run)), h("td", {}, r.kind), h("td", {}, status), progress,
      h("td", {}, r.memory ?? "–"), numCell(r.em), numCell(r.f1), numCell(r.cost_usd, 4), h("td", { class: "num" }, r.tokens), h("td", { class: "num" }, secs(r.wall_seconds)),
      h("td", {}, r.created), h("td", { class: "muted" }, String(r.what).slice(0, 60)));
  });
  fill(main, h("h1", {}, "Runs"), rows.length ? table(["", "run", "kind", "status", "progress", "memory", "EM", "F1", "cost", "tokens", "time", "created", "what"], body, { id: "runs" }) : h("p", { class: "muted" }, "No runs yet: `memento ask` or `memento eval` make them."), h("p", {}, compare));
}

function follow(run, update) {
  const source = new EventSource(`/api/runs/${enc(run)}/live`);
  source.onmessage = (e) => { const p = JSON.parse(e.data); update(p); if (p.status !== "running") source.close(); };
  source.onerror = () => source.close();
  streams.push(source);
}

function liveBox(p) {
  return h("div", { id: "live", "data-status": p.status },
    h("p", {}, h("span", { class: `badge ${p.status}` }, p.status), " ", progressBar(p.done, p.planned), ` ${p.done}/${p.planned} tasks · iteration ${p.iteration}`),
    p.running.length ? h("ul", { class: "running", "aria-label": "in flight" }, p.running.map((t) => h("li", { "data-task": t.id }, `running ${secs(Date.now() / 1000 - t.started)} · ${t.id}${t.attempt > 1 ? ` (attempt ${t.attempt})` : ""} · ${t.question}`))) : null,
    p.latest.length ? h("ul", { class: "latest" }, p.latest.map((r) => h("li", {}, `iter ${r.iteration} · ${r.question} → ${r.answer ?? "(no answer)"} `, h("span", { class: r.em ? "good" : "bad" }, r.error ? "error" : `EM ${fmt(r.em, 0)} F1 ${fmt(r.f1, 2)}`)))) : null);
}

async function pageRun(main, run) {
  const d = await api(`/api/runs/${enc(run)}`);
  const others = (await api("/api/runs")).filter((r) => r.run !== run && r.kind === "eval");
  const c = d.config;
  let live = liveBox(d.progress);
  if (d.progress.status === "running") follow(run, (p) => { const next = liveBox(p); live.replaceWith(next); live = next; if (p.status !== "running") route(); });
  const chart = h("div", { id: "curves" }, curves([d]));
  const overlay = h("div", { class: "filters" }, "Overlay:", others.map((o) => h("label", {}, h("input", { type: "checkbox", value: o.run, onchange: redraw }), ` ${o.run} (memory ${o.memory})`)));
  async function redraw() {
    const chosen = [...overlay.querySelectorAll("input:checked")].map((x) => x.value);
    const extra = await Promise.all(chosen.map((r) => api(`/api/runs/${enc(r)}`)));
    chart.replaceChildren(curves([d, ...extra]));
  }
  const iterations = d.summaries.map((x) => h("tr", {}, h("td", {}, x.iteration), h("td", { class: "num" }, x.overall.n), numCell(x.overall.em), numCell(x.overall.f1), numCell(x.overall.pm), h("td", { class: "num" }, x.overall.failed), h("td", { class: "num" }, x.overall.missing)));
  const sources = d.summaries.flatMap((x) => Object.entries(x.by_source).map(([src, m]) => h("tr", {}, h("td", {}, x.iteration), h("td", {}, src), h("td", { class: "num" }, m.n), numCell(m.em), numCell(m.f1), numCell(m.pm))));
  const compareWith = h("select", { id: "compare-with", onchange: (e) => { if (e.target.value) location.hash = `#/compare/${enc(run)}/${enc(e.target.value)}`; } }, h("option", { value: "" }, "compare with…"), others.map((o) => h("option", { value: o.run }, o.run)));
  fill(main, 
    h("h1", {}, `${c.kind ?? "run"} ${run}`),
    h("p", { class: "muted" }, `memory ${c.memory ?? "?"} · ${c.dataset || c.question || ""} · models ${JSON.stringify(c.models || {})} · cost $${fmt(d.cost.cost_usd, 4)} · ${d.cost.tokens} tokens · ${secs(d.cost.task_seconds)} task time`),
    live,
    h("h2", {}, "Learning curve"), chart, others.length ? overlay : null,
    h("h2", {}, "Per iteration"), table(["iteration", "n", "EM", "F1", "PM", "failed", "missing"], iterations, { id: "iterations" }),
    h("h2", {}, "Per data source"), table(["iteration", "source", "n", "EM", "F1", "PM"], sources, { id: "sources" }),
    h("h2", {}, "Tasks"), taskTable(run, d.tasks), h("p", {}, compareWith));
}

function taskTable(run, tasks) {
  const sources = [...new Set(tasks.map((t) => t.source))].sort();
  const iterations = [...new Set(tasks.map((t) => t.iteration))].sort((a, b) => a - b);
  const wrong = h("input", { type: "checkbox", id: "wrong-only" });
  const source = h("select", { id: "source-filter" }, h("option", { value: "" }, "all sources"), sources.map((x) => h("option", { value: x }, x)));
  const iteration = h("select", { id: "iteration-filter" }, h("option", { value: "" }, "all iterations"), iterations.map((x) => h("option", { value: x }, `iteration ${x}`)));
  const body = h("tbody", {});
  const draw = () => {
    body.replaceChildren(...tasks
      .filter((t) => !wrong.checked || t.error || !(t.em >= 1))
      .filter((t) => !source.value || t.source === source.value)
      .filter((t) => !iteration.value || String(t.iteration) === iteration.value)
      .map((t) => h("tr", { "data-task": t.id }, h("td", {}, t.iteration), h("td", {}, link(`#/run/${enc(run)}/task/${enc(t.id)}/${t.iteration}`, t.id)), h("td", {}, t.source),
        h("td", {}, t.question), h("td", {}, t.answer ?? (t.error || "(no answer)")), numCell(t.em, 0), numCell(t.f1, 2), numCell(t.reward, 2),
        h("td", {}, t.case_id ? caseLink(t.case_id) : "–"), h("td", { class: "num" }, secs(t.seconds)))));
  };
  [wrong, source, iteration].forEach((el) => el.addEventListener("change", draw));
  draw();
  const headers = ["iteration", "task", "source", "question", "answer", "EM", "F1", "reward", "case", "time"];
  return h("div", {}, h("div", { class: "filters" }, h("label", {}, wrong, " wrong only"), source, iteration),
    h("table", { id: "tasks" }, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))), body));
}

function eventItem(e) {
  const inSubtask = e.kind === "tool" || (e.kind === "subtask" && e.phase === "end");
  const li = (kind, ...body) => h("li", { class: `${inSubtask ? "in-subtask" : ""} ${e.kind === "error" || e.ok === false ? "error" : ""}`, "data-kind": e.kind }, h("span", { class: "t" }, `${fmt(e.t, 2)}s`), h("span", { class: "kind" }, kind), h("div", {}, ...body));
  switch (e.kind) {
    case "task": return li("task", `${e.task} `, h("span", { class: "muted" }, `(${e.tools} tools, memory ${e.memory})`));
    case "cases": return li("cases", e.ids.length ? e.ids.map((id) => h("span", {}, caseLink(id), e.positive.includes(id) ? " ✓ " : " ✗ ")) : "none retrieved");
    case "plan": return li(`plan ${e.cycle}`, e.thought ? h("p", { class: "muted" }, e.thought) : null,
      e.final_answer ? h("p", {}, "final answer: ", h("b", {}, e.final_answer)) : h("ol", {}, e.subtasks.map((x) => h("li", {}, x.description))));
    case "subtask": return e.phase === "start" ? li(`subtask ${e.id}`, e.description)
      : li(`✓ subtask ${e.id}`, h("span", { class: "muted" }, `${e.steps} steps, ${e.stop} `), collapsible("result", e.result));
    case "tool": return li(e.name, h("span", { class: e.ok ? "good" : "bad" }, e.ok ? "ok" : "error"), ` ${fmt(e.seconds, 2)} s`, e.restarted ? " (server restarted)" : "",
      h("pre", { class: "arguments" }, JSON.stringify(e.arguments, null, 1)), collapsible("result", e.output));
    case "budget": return li("budget", `spent: ${e.budget}`);
    case "error": return li("error", e.message);
    case "answer": return li("answer", h("b", {}, e.answer ?? "(none)"), h("span", { class: "muted" }, ` (${e.stop_reason})`));
    case "reward": return li("reward", fmt(e.reward, 2), " ", h("span", { class: "muted" }, JSON.stringify(e.metrics || {})));
    case "case_written": return li("case written", caseLink(e.case_id));
    default: return null;
  }
}

function collapsible(label, text) {
  text = String(text ?? "");
  const shown = h("pre", {}, text.length > TRIM ? `${text.slice(0, TRIM)}…` : text);
  const more = text.length > TRIM ? h("button", { onclick: (ev) => { shown.textContent = text; ev.target.remove(); } }, `show all ${text.length} characters`) : null;
  return h("details", {}, h("summary", {}, `${label} (${text.length} characters)`), shown, more);
}

async function pageTask(main, run, task, iteration) {
  const d = await api(`/api/runs/${enc(run)}/tasks/${enc(task)}${iteration ? `?iteration=${enc(iteration)}` : ""}`);
  const r = d.result || {};
  fill(main, 
    h("p", {}, runLink(run), " › task ", task, " · iteration ", d.iterations.map((i) => h("span", {}, " ", i === d.iteration ? h("b", {}, i) : link(`#/run/${enc(run)}/task/${enc(task)}/${i}`, String(i))))),
    h("h1", {}, d.question),
    h("div", { class: "cards" }, card("answer", d.answer ?? "(none)"), card("gold", (r.gold || []).join(" | ") || "–"), card("EM", fmt(r.em, 0)), card("F1", fmt(r.f1, 2)),
      card("reward", fmt(r.reward, 2)), card("time", secs(r.seconds)), card("case written", r.case_id ? caseLink(r.case_id) : "–")),
    h("h2", {}, "Timeline"), h("ul", { class: "timeline", id: "timeline" }, d.events.map(eventItem)));
}

function card(label, value) {
  return h("div", { class: "card" }, h("span", { class: "muted" }, label), h("b", {}, value));
}

async function pageCompare(main, a, b) {
  const d = await api(`/api/compare?a=${enc(a)}&b=${enc(b)}`);
  const cells = (x) => (x ? [h("td", {}, x.answer ?? "(none)"), numCell(x.em, 0), numCell(x.f1, 2)] : [h("td", { class: "muted" }, "not run"), h("td", {}), h("td", {})]);
  const rows = d.tasks.map((t) => {
    const changed = (t.a?.em ?? null) !== (t.b?.em ?? null);
    return h("tr", { class: changed ? "diff" : null, "data-task": t.id }, h("td", {}, t.id), h("td", {}, (t.a || t.b).question), ...cells(t.a), ...cells(t.b));
  });
  const won = d.tasks.filter((t) => (t.b?.em ?? 0) > (t.a?.em ?? 0)).length;
  const lost = d.tasks.filter((t) => (t.b?.em ?? 0) < (t.a?.em ?? 0)).length;
  fill(main, h("h1", {}, "Compare ", runLink(a), " and ", runLink(b)),
    h("p", {}, `${b} is right where ${a} is wrong on ${won} task(s), and wrong where it is right on ${lost} (EM at each run's last iteration; changed rows highlighted).`),
    table(["task", "question", `answer (${a})`, "EM", "F1", `answer (${b})`, "EM", "F1"], rows, { id: "compare-table" }));
}

async function pageBank(main) {
  const form = h("form", { class: "filters", id: "search" },
    h("input", { name: "q", placeholder: "a task, as the agent would get it", size: 50, required: true }),
    h("input", { name: "k", type: "number", min: 1, max: 50, value: 8, "aria-label": "k" }),
    h("input", { name: "tags", placeholder: "tags (comma separated)" }), h("input", { name: "source", placeholder: "source" }),
    h("input", { name: "min_reward", type: "number", min: 0, max: 1, step: 0.1, placeholder: "min reward" }),
    h("label", {}, h("input", { name: "include_quarantined", type: "checkbox", value: "1" }), " include quarantined"),
    h("button", { type: "submit" }, "Search"));
  const results = h("div", { class: "row", id: "results" });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const query = new URLSearchParams([...new FormData(form)].filter(([, v]) => v !== ""));
    results.replaceChildren(h("p", { class: "muted" }, "searching…"));
    try {
      const found = await api(`/api/bank/search?${query}`);
      results.replaceChildren(...Object.entries(found).map(([policy, r]) => h("div", { class: "col", "data-policy": policy },
        h("h2", {}, `${policy} policy`), retrievedTable(r))));
      showError("");
    } catch (err) { showError(err.message); }
  });
  const trust = h("select", { id: "trust-filter" }, ["all", "trusted", "quarantined"].map((x) => h("option", { value: x }, x)));
  const listFilters = h("form", { class: "filters", id: "browse" }, h("input", { name: "tags", placeholder: "tags" }), h("input", { name: "source", placeholder: "source" }),
    h("input", { name: "min_reward", type: "number", min: 0, max: 1, step: 0.1, placeholder: "min reward" }), trust, h("button", { type: "submit" }, "Filter"));
  const list = h("div", { id: "case-list" });
  async function browse(offset = 0) {
    const query = new URLSearchParams([...new FormData(listFilters)].filter(([, v]) => v !== ""));
    query.set("trust", trust.value);
    query.set("offset", offset);
    const page = await api(`/api/bank/cases?${query}`);
    const rows = page.cases.map((c) => h("tr", { "data-case-row": c.id }, h("td", {}, caseLink(c.id)), h("td", {}, c.task), numCell(c.reward, 2), h("td", {}, h("span", { class: `badge ${c.trust}` }, c.trust)), h("td", {}, c.source), h("td", {}, c.tags.join(", ")), h("td", {}, c.created_at.slice(0, 19))));
    list.replaceChildren(...[h("p", { class: "muted" }, `${page.total} case(s)`), table(["id", "task", "reward", "trust", "source", "tags", "created"], rows),
      page.offset > 0 ? h("button", { onclick: () => browse(Math.max(0, page.offset - 50)) }, "previous") : null,
      page.next_offset !== null ? h("button", { onclick: () => browse(page.next_offset) }, "next") : null].filter(Boolean));
  }
  listFilters.addEventListener("submit", (e) => { e.preventDefault(); browse().catch((err) => showError(err.message)); });
  fill(main, h("h1", {}, "Case bank"), h("p", { class: "muted" }, "Search with the agent's own retrieval (retrieve_cases), both policies side by side."), form, results, h("h2", {}, "All cases"), listFilters, list);
  await browse();
}

function retrievedTable(r) {
  const rows = [...r.positive.map((c) => [c, "positive"]), ...r.negative.map((c) => [c, "negative"])].map(([c, side]) => h("tr", { "data-case-row": c.id },
    h("td", {}, caseLink(c.id)), h("td", {}, c.task), h("td", { class: side === "positive" ? "good" : "bad" }, side), numCell(c.reward, 2),
    numCell(c.similarity), numCell(c.score), numCell(c.utility), h("td", {}, h("span", { class: `badge ${c.trust}` }, c.trust))));
  return rows.length ? table(["id", "task", "kind", "reward", "similarity", "score", "utility", "trust"], rows) : h("p", { class: "muted" }, "no case retrieved");
}

async function pageCase(main, id) {
  const d = await api(`/api/bank/cases/${enc(id)}`);
  const c = d.case;
  const act = async (body, confirmText) => {
    if (confirmText && !window.confirm(confirmText)) return;
    try { await api(`/api/bank/cases/${enc(id)}`, { body }); showError(""); if (body.action === "delete") location.hash = "#/bank"; else route(); } catch (err) { showError(err.message); }
  };
  const reward = h("input", { type: "number", min: 0, max: 1, step: 0.1, value: c.reward, id: "reward-input", "aria-label": "new reward" });
  const provenance = d.retrieved_by.map((r) => h("tr", {}, h("td", {}, String(r.when).slice(0, 19).replace("T", " ")), h("td", {}, r.run ? runLink(r.run) : (r.run_id || "–")),
    h("td", {}, r.id ? link(`#/run/${enc(r.run)}/task/${enc(r.id)}/${r.iteration}`, r.id) : "–"), h("td", {}, r.iteration ?? "–"), h("td", {}, r.question), numCell(r.reward, 2), numCell(r.em, 0)));
  const shown = d.provenance_error ? h("p", { class: "muted", id: "provenance-error" }, `provenance unavailable: ${d.provenance_error}`)
    : provenance.length ? [table(["when", "run", "task", "iteration", "question", "reward", "EM"], provenance, { id: "provenance" }), d.used_total > provenance.length ? h("p", { class: "muted" }, `the latest ${provenance.length} of ${d.used_total}`) : null]
    : h("p", { class: "muted" }, "no task retrieved it yet");
  fill(main, 
    h("h1", {}, "Case ", c.id), h("p", {}, h("span", { class: `badge ${c.trust}`, id: "trust" }, c.trust), " ", c.outcome, " · source ", c.source || "–", " · run ", d.written_by ? runLink(d.written_by) : (c.run_id || "–"), " · tags ", c.tags.join(", ") || "–"),
    h("div", { class: "cards" }, card("reward", fmt(c.reward, 2)), card("created", c.created_at.slice(0, 19)), card("updated", c.updated_at.slice(0, 19))),
    h("div", { class: "filters", id: "actions" },
      c.trust === "trusted" ? h("button", { id: "quarantine", onclick: () => act({ action: "quarantine" }) }, "Quarantine") : h("button", { id: "restore", onclick: () => act({ action: "restore" }) }, "Restore"),
      reward, h("button", { id: "save-reward", onclick: () => act({ action: "reward", reward: Number(reward.value) }) }, "Set reward"),
      h("button", { id: "delete", class: "danger", onclick: () => act({ action: "delete" }, `Delete case ${c.id} for good?`) }, "Delete")),
    h("h2", {}, "Task"), h("p", {}, c.task), h("h2", {}, "Plan"), h("pre", {}, JSON.stringify(c.plan, null, 2)), h("h2", {}, "Answer"), h("p", {}, c.answer || "–"),
    c.summary ? [h("h2", {}, "Summary"), h("p", {}, c.summary)] : null,
    h("h2", {}, "Retrieved by (the bank's record; runs and tasks link where this machine has them)"), shown,
    h("p", { class: "muted" }, "Learned score and utility depend on the task asked: search the bank to see them for a task."));
}

async function pageHealth(main) {
  const d = await api("/api/health");
  const st = d.stats, sc = st.scorer, gate = sc.gate;
  const history = d.history.filter((p) => p.database === st.database && p.loss !== null).map((p) => [p.steps, p.loss]);
  if (sc.last_loss !== null) history.push([sc.trained_steps, sc.last_loss]);
  fill(main, h("h1", {}, "Memory health"),
    h("div", { class: "cards", id: "bank-stats" }, card("cases", st.cases), card("trusted", st.trusted), card("quarantined", st.quarantined), card("positive", st.positive), card("negative", st.negative), card("index", st.index)),
    h("p", { class: "muted" }, `${st.database} · ${st.embedding_model} (${st.embedding_dim} dimensions)`),
    h("h2", {}, "Learned policy"),
    h("div", { class: "cards", id: "scorer" }, card("training steps", sc.trained_steps), card("transitions", sc.transitions), card("last loss", fmt(sc.last_loss, 4)), card("gate", gate.open ? "open" : "closed")),
    h("p", { id: "gate" }, `gate ${gate.open ? "open: the learned scorer ranks the cases" : "closed: similarity's order stands"} · ${gate.reason} · held-out tasks ${gate.tasks}, log-loss learned ${fmt(gate.loss_learned, 4)} vs prior ${fmt(gate.loss_prior, 4)}`),
    h("h2", {}, "Training loss: at the end of each run on this bank, and now"),
    history.length ? lineChart([{ label: "last loss", colour: COLOURS[0], points: history }], { xlabel: "training steps", ylabel: "loss", ymax: null, integerX: false }) : h("p", { class: "muted" }, "no run has recorded the learned policy's loss on this bank yet"));
}

// ---- routing ------------------------------------------------------------------------------

async function route() {
  streams.forEach((x) => x.close());
  streams = [];
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const main = document.getElementById("main");
  document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === ({ run: "runs", compare: "runs", case: "bank" }[parts[0]] || parts[0] || "runs")));
  showError("");
  try {
    if (parts[0] === "run" && parts[2] === "task") await pageTask(main, parts[1], parts[3], parts[4]);
    else if (parts[0] === "run") await pageRun(main, parts[1]);
    else if (parts[0] === "compare") await pageCompare(main, parts[1], parts[2]);
    else if (parts[0] === "bank") await pageBank(main);
    else if (parts[0] === "case") await pageCase(main, parts[1]);
    else if (parts[0] === "health") await pageHealth(main);
    else await pageRuns(main);
    main.dataset.page = parts[0] || "runs";
  } catch (err) {
    fill(main, h("p", { class: "muted" }, "Could not load this page."));
    showError(err.message);
  }
}

window.addEventListener("hashchange", route);
route();
