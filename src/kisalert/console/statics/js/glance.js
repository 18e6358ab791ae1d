// The glance page: the last hour at a glance (rate chart, top headers, top
// transmitters) and the capture sources. The hour is read once, then kept up to
// date from the eventbus.

import { getJSON } from "./api.js";
import { $, el, replaceChildren, showResult } from "./dom.js";
import * as live from "./live.js";
import { serverNow } from "./time.js";
import { rateChart, legend } from "./chart.js";

const A = "kismet.alert.";
const HOUR = 3600;
const NO_MAC = "00:00:00:00:00:00";
const FIELDS = [A + "timestamp", A + "severity", A + "header", A + "transmitter_mac"];

let recent = []; // [{ts, sev, header, tx}], oldest first, the last hour
let visible = false;
let stale = true;
let drawPending = false;
let lastDraw = 0;
let sourcesTimer = 0;

function entry(rec) {
  return { ts: rec[A + "timestamp"], sev: rec[A + "severity"], header: rec[A + "header"], tx: rec[A + "transmitter_mac"] };
}

function prune() {
  const since = serverNow() - HOUR;
  let drop = 0;
  while (drop < recent.length && recent[drop].ts < since) drop++;
  if (drop) recent = recent.slice(drop);
}

function buckets() {
  const nowMin = Math.floor(serverNow() / 60);
  const first = nowMin - 59;
  const out = Array.from({ length: 60 }, (_, i) => ({ start: (first + i) * 60, counts: {} }));
  for (const e of recent) {
    const i = Math.floor(e.ts / 60) - first;
    if (i >= 0 && i < 60) out[i].counts[e.sev] = (out[i].counts[e.sev] || 0) + 1;
  }
  return out;
}

function topList(node, key, linkParam, skip) {
  const counts = new Map();
  for (const e of recent) {
    const name = e[key];
    if (name === skip) continue;
    counts.set(name, (counts.get(name) || 0) + 1);
  }
  const top = [...counts].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0]))).slice(0, 10);
  if (!top.length) {
    replaceChildren(node, el("li", { class: "empty", text: "None in the last hour" }));
    return;
  }
  const max = top[0][1];
  replaceChildren(
    node,
    top.map(([name, count]) => {
      const bar = el("span", { class: "top-bar" });
      // CSSOM, not a style attribute: allowed by the CSP.
      bar.style.width = `${Math.max(2, (count / max) * 100)}%`;
      return el(
        "li",
        null,
        el("a", { class: key === "tx" ? "mono" : null, href: `#/alerts?${new URLSearchParams({ [linkParam]: name })}`, text: name }),
        el("span", { class: "top-count", text: count }),
        el("span", { class: "top-track" }, bar),
      );
    }),
  );
}

function draw() {
  drawPending = false;
  if (!visible) return;
  lastDraw = Date.now();
  prune();
  const box = $("#rate-chart-box");
  replaceChildren(box, rateChart(buckets(), box.clientWidth));
  $("#rate-total").textContent = `· ${recent.length} in the last hour`;
  topList($("#top-headers"), "header", "header");
  topList($("#top-transmitters"), "tx", "transmitter", NO_MAC);
}

// At most one redraw a second, however fast alerts come in.
function scheduleDraw() {
  if (drawPending || !visible) return;
  drawPending = true;
  setTimeout(() => requestAnimationFrame(draw), Math.max(0, 1000 - (Date.now() - lastDraw)));
}

// The read of the hour in flight, with the live alerts that came meanwhile, or null.
// A newer read takes over an older one's alerts, and only the newest counts.
let reading = null;

async function load() {
  stale = false;
  const mine = { arriving: reading ? reading.arriving : [] };
  reading = mine;
  try {
    const records = await getJSON(`alerts/last-time/-${HOUR}/alerts.json`, { body: { fields: FIELDS } });
    if (reading !== mine) return;
    const read = records.map(entry).sort((a, b) => a.ts - b.ts);
    // Those the server's answer was made too early to hold are newer than all of
    // it (stamps only grow): they are kept, not overwritten with the answer.
    const newest = read.length ? read[read.length - 1].ts : -Infinity;
    recent = read.concat(mine.arriving.filter((e) => e.ts > newest));
    showResult($("#glance-error"), "", false);
  } catch (err) {
    if (reading !== mine) return;
    recent = recent.concat(mine.arriving);
    showResult($("#glance-error"), err.message, true);
  }
  reading = null;
  scheduleDraw();
}

function sourceRow(src) {
  const S = "kisalert.source.";
  const state = String(src[S + "state"] ?? "");
  const error = src[S + "error"];
  return el(
    "tr",
    { data: { name: src[S + "name"] }, title: src[S + "definition"] || null },
    el("td", { class: "strong", text: src[S + "name"] }),
    el("td", { text: src[S + "type"] }),
    el("td", { class: `state-${state.toLowerCase().replace(/[^a-z]/g, "")}` }, state, error ? el("span", { class: "source-error", text: ` ${error}` }) : null),
    el("td", { class: "num", text: src[S + "frames"] }),
    el("td", { class: "num", text: src[S + "malformed"] }),
    el("td", { class: "num", text: src[S + "bad_fcs"] }),
    el("td", { class: "num", text: src[S + "alerts"] }),
  );
}

async function loadSources() {
  try {
    const sources = await getJSON("sources/all_sources.json");
    $("#sources-table").hidden = sources.length === 0;
    $("#sources-empty").hidden = sources.length !== 0;
    replaceChildren($("#sources-table tbody"), sources.map(sourceRow));
  } catch (err) {
    showResult($("#glance-error"), `Sources: ${err.message}`, true);
  }
}

function onAlert(rec) {
  if (stale) return; // the next load reads the hour again
  if (reading) {
    reading.arriving.push(entry(rec));
    return;
  }
  recent.push(entry(rec));
  scheduleDraw();
}

export function init() {
  legend($("#rate-legend"));
  window.addEventListener("resize", () => scheduleDraw());
  live.on("ALERT", onAlert);
  // The bars move left as minutes pass, even with no alerts.
  setInterval(() => visible && !document.hidden && scheduleDraw(), 10000);
}

export function show() {
  visible = true;
  if (stale) load();
  else scheduleDraw();
  loadSources();
  clearInterval(sourcesTimer);
  sourcesTimer = setInterval(() => !document.hidden && loadSources(), 5000);
}

export function hide() {
  visible = false;
  clearInterval(sourcesTimer);
  // Read the hour again on return rather than keep every alert while nobody looks.
  stale = true;
  recent = [];
}

export function reconnected(first) {
  if (first) return; // read just before; the chart is per minute anyway
  stale = true;
  if (visible) load();
}

export function reset() {
  stale = true;
  recent = [];
}
