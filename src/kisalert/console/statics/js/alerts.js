// The alerts page: a server-side paged table (alerts_view page mode), filters,
// search, sorting, and live alerts from the eventbus.

import { getJSON } from "./api.js";
import { recall, remember } from "./prefs.js";
import { $, $$, el, replaceChildren, setText, showResult, frameBatcher, debounce } from "./dom.js";
import * as live from "./live.js";
import { onTick } from "./time.js";
import { row as alertRow, refreshTimes } from "./alert_rows.js";
import { onDefinitions, classes, allDefinitions } from "./definition_cache.js";
import * as detail from "./alert_detail.js";
import { applyParams, toParams, matches, regexAll, DEFAULTS } from "./alert_filters.js";

const A = "kismet.alert.";
const TIME = A + "timestamp";
// Only what the table shows: a page of a 100 000-alert backlog stays small.
const TABLE_FIELDS = ["hash", "timestamp", "severity", "header", "class", "text", "transmitter_mac", "channel"].map((f) => A + f);

const state = { ...DEFAULTS, length: 50, timeMode: "relative" };
const counts = { lastPage: 0, lastRow: 0, totalRow: 0 };
let shown = new Set(); // hashes on the current page, so a live duplicate is skipped
let arrivedDuringLoad = []; // live alerts for the table that came while a page was read
let newCount = 0;
let visible = false;
let stale = true;
let controller = null;
let loadingTimer = 0;

function atHead() {
  return state.page === 0 && state.sort === TIME && state.dir === "desc";
}

function markSelected(tr) {
  if (tr.dataset.hash === detail.openHash()) tr.classList.add("selected");
  return tr;
}

function pageInfo() {
  const pages = Math.max(counts.lastPage, 1);
  setText($("#page-info"), `Page ${state.page + 1} of ${pages} · ${counts.lastRow} of ${counts.totalRow} alerts`);
  $("#page-prev").disabled = state.page <= 0;
  $("#page-next").disabled = state.page + 1 >= pages;
  $("#alerts-empty").hidden = counts.lastRow > 0;
}

function showNewCount() {
  const button = $("#new-alerts");
  button.hidden = newCount === 0;
  // Worded as the contract has it ("N new alerts"), for every N.
  setText(button, `${newCount} new alerts`);
}

function syncControls() {
  const search = $("#alerts-search");
  // Not while typing: the debounced value may lag what is in the box.
  if (document.activeElement !== search && search.value.trim() !== state.search) search.value = state.search;
  for (const [id, key] of [["#filter-severity", "severity"], ["#filter-class", "cls"], ["#filter-header", "header"]]) {
    const select = $(id);
    if (state[key] && !$$("option", select).some((o) => o.value === state[key])) {
      select.append(el("option", { value: state[key], text: state[key] }));
    }
    select.value = state[key];
  }
  $("#filter-transmitter").hidden = !state.transmitter;
  setText($("#filter-transmitter-mac"), state.transmitter);
  $("#page-size").value = String(state.length);
  for (const th of $$("#alerts-table th[data-sort]")) {
    if (th.dataset.sort === state.sort) th.setAttribute("aria-sort", state.dir === "asc" ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  }
  const abs = state.timeMode === "absolute";
  $("#time-mode").setAttribute("aria-pressed", String(abs));
  setText($("#time-mode"), abs ? "Relative times" : "Absolute times");
}

/** Fetch the current page. `quiet` keeps the table as it is while loading (resyncs). */
export async function load({ quiet = false } = {}) {
  controller?.abort();
  const mine = (controller = new AbortController());
  stale = false;
  arrivedDuringLoad = [];
  clearTimeout(loadingTimer);
  if (!quiet) loadingTimer = setTimeout(() => $("#alerts-table").classList.add("loading"), 150);
  // With a search term, no `fields`: the server then searches its default set
  // (header, class, text, the four MACs, channel, severity name) instead of the
  // requested fields, which would also match the digits of every timestamp and
  // id; and that set has a fast path (2-7x on 100 000 alerts). A page of whole
  // records is still only a few dozen kilobytes.
  const body = state.search ? {} : { fields: TABLE_FIELDS };
  const pairs = regexAll(state);
  if (pairs.length) body.regex_all = pairs;
  const query = { page: state.page, length: state.length, sort: state.sort, sort_dir: state.dir, search: state.search };
  try {
    const answer = await getJSON("alerts/alerts_view.json", { body, query, signal: mine.signal });
    if (mine !== controller) return;
    counts.lastPage = answer.last_page;
    counts.lastRow = answer.last_row;
    counts.totalRow = answer.total_row;
    // Past the end the server answers the first page.
    if (state.page > 0 && state.page >= counts.lastPage) state.page = 0;
    if (atHead()) {
      newCount = 0;
      showNewCount();
    }
    shown = new Set(answer.data.map((r) => String(r[A + "hash"])));
    // Keyboard users keep their place when a resync redraws the rows.
    const focused = document.activeElement?.closest?.("tr.alert-row")?.dataset.hash;
    const tbody = $("#alerts-table tbody");
    replaceChildren(tbody, answer.data.map((r) => markSelected(alertRow(r, state.timeMode))));
    if (focused) tbody.querySelector(`tr[data-hash="${CSS.escape(focused)}"]`)?.focus();
    // Alerts that came live while this page was being read may be missing from it
    // (the server answered first): they go back on top, as live ones do.
    if (atHead()) {
      for (const rec of arrivedDuringLoad.filter((r) => !shown.has(String(r[A + "hash"])))) {
        counts.lastRow += 1;
        counts.totalRow += 1;
        insertBatch(rec);
      }
    }
    arrivedDuringLoad = [];
    showResult($("#alerts-error"), "", false);
    pageInfo();
    writeHash();
  } catch (err) {
    if (err.name === "AbortError" || mine !== controller) return;
    showResult($("#alerts-error"), err.message, true);
  } finally {
    if (mine === controller) {
      controller = null; // no read in flight
      clearTimeout(loadingTimer);
      $("#alerts-table").classList.remove("loading");
    }
  }
}

function writeHash() {
  if (!visible) return;
  const query = toParams(state).toString();
  const hash = query ? `#/alerts?${query}` : "#/alerts";
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

let searchLater = null;

function change(patch) {
  // A search still waiting out its debounce applies first: a click on "next" just
  // after typing pages through the new results, and is not undone by them.
  const typed = $("#alerts-search").value.trim();
  if (typed !== state.search) {
    searchLater?.cancel();
    state.search = typed;
    state.page = 0;
  }
  Object.assign(state, patch);
  syncControls();
  load();
}

// Live alerts. Counting is immediate; the DOM is touched once per frame, so a flood
// costs one insert and one trim per frame, whatever the rate.
const insertBatch = frameBatcher((batch) => {
  if (!atHead() || !visible) return;
  // Only alerts newer than the top row, each once: a batch may hold an alert twice
  // (queued live, and again after a read it was missing from), and alerts a re-read
  // has since placed (or left out) are older than its newest row.
  const top = $("#alerts-table tbody td.col-time")?.dataset.ts;
  const newest = top === undefined ? -Infinity : Number(top);
  const seen = new Set();
  const fresh = batch
    .filter((r) => {
      const hash = String(r[A + "hash"]);
      if (shown.has(hash) || seen.has(hash) || !(r[A + "timestamp"] > newest)) return false;
      seen.add(hash);
      return true;
    })
    .slice(-state.length);
  if (!fresh.length) return;
  const tbody = $("#alerts-table tbody");
  const frag = document.createDocumentFragment();
  const added = [];
  for (let i = fresh.length - 1; i >= 0; i--) {
    const tr = alertRow(fresh[i], state.timeMode);
    tr.classList.add("fresh");
    frag.append(tr);
    added.push(tr);
    shown.add(String(fresh[i][A + "hash"]));
  }
  tbody.prepend(frag);
  setTimeout(() => added.forEach((tr) => tr.classList.remove("fresh")), 1500);
  while (tbody.rows.length > state.length) {
    shown.delete(tbody.lastElementChild.dataset.hash);
    tbody.lastElementChild.remove();
  }
  pageInfo();
});

// The backlog is bounded, so the counts drift as old alerts fall off; a quiet
// re-read once things calm down (or every 5 s under a flood) puts them right.
let resyncTimer = 0;
let resyncDeadline = 0;
function scheduleResync() {
  const now = Date.now();
  if (!resyncDeadline) resyncDeadline = now + 5000;
  clearTimeout(resyncTimer);
  resyncTimer = setTimeout(() => {
    resyncDeadline = 0;
    // Away from the head the page the analyst is reading stays put; the
    // "new alerts" button leads back, with a fresh read.
    if (!atHead()) return;
    if (visible) load({ quiet: true });
    else stale = true;
  }, Math.max(0, Math.min(1000, resyncDeadline - now)));
}

function onAlert(rec) {
  counts.totalRow += 1;
  const wanted = matches(state, rec);
  if (wanted && !atHead()) {
    newCount += 1;
    showNewCount();
  } else if (wanted && visible) {
    arrivedDuringLoad.push(rec);
    counts.lastRow += 1;
    counts.lastPage = Math.max(1, Math.ceil(counts.lastRow / state.length));
    insertBatch(rec);
  }
  if (visible) pageInfo();
  scheduleResync();
}

function fillSelect(select, values) {
  const keep = select.value;
  replaceChildren(select, el("option", { value: "", text: "any" }), values.map((v) => el("option", { value: v, text: v })));
  if (keep && !values.includes(keep)) select.append(el("option", { value: keep, text: keep }));
  select.value = keep;
}

export function init() {
  const size = Number(recall("pageSize", 50));
  state.length = [25, 50, 100, 250].includes(size) ? size : 50;
  state.timeMode = recall("timeMode", "relative") === "absolute" ? "absolute" : "relative";
  detail.init();
  $("#alerts-filters").addEventListener("submit", (e) => e.preventDefault());
  searchLater = debounce(() => change({ search: $("#alerts-search").value.trim(), page: 0 }), 250);
  $("#alerts-search").addEventListener("input", searchLater);
  $("#filter-severity").addEventListener("change", (e) => change({ severity: e.target.value, page: 0 }));
  $("#filter-class").addEventListener("change", (e) => change({ cls: e.target.value, page: 0 }));
  $("#filter-header").addEventListener("change", (e) => change({ header: e.target.value, page: 0 }));
  $("#filter-transmitter-clear").addEventListener("click", () => change({ transmitter: "", page: 0 }));
  $("#filters-clear").addEventListener("click", () => change({ ...DEFAULTS, sort: state.sort, dir: state.dir }));
  $("#page-size").addEventListener("change", (e) => {
    const length = Number(e.target.value);
    remember("pageSize", length);
    change({ length, page: Math.floor((state.page * state.length) / length) });
  });
  $("#page-prev").addEventListener("click", () => state.page > 0 && change({ page: state.page - 1 }));
  $("#page-next").addEventListener("click", () => change({ page: state.page + 1 }));
  $("#new-alerts").addEventListener("click", () => change({ page: 0, sort: TIME, dir: "desc" }));
  $("#time-mode").addEventListener("click", () => {
    state.timeMode = state.timeMode === "relative" ? "absolute" : "relative";
    remember("timeMode", state.timeMode);
    syncControls();
    refreshTimes($("#alerts-table tbody"), state.timeMode);
  });
  $("#alerts-table thead").addEventListener("click", (e) => {
    const th = e.target.closest("th[data-sort]");
    if (!th) return;
    const path = th.dataset.sort;
    const dir = path === state.sort ? (state.dir === "asc" ? "desc" : "asc") : path === TIME ? "desc" : "asc";
    change({ sort: path, dir, page: 0 });
  });
  const tbody = $("#alerts-table tbody");
  detail.bindRows(tbody);
  document.addEventListener("keydown", (e) => {
    if (!visible || e.target.closest("input, select, textarea")) return;
    if (e.key === "/") {
      e.preventDefault();
      $("#alerts-search").focus();
    }
  });
  onDefinitions(() => {
    fillSelect($("#filter-class"), classes());
    fillSelect($("#filter-header"), allDefinitions().map((d) => d.name).sort());
  });
  live.on("ALERT", onAlert);
  // Relative times age; absolute ones do not need the ticker.
  onTick(() => visible && state.timeMode === "relative" && refreshTimes($("#alerts-table tbody"), "relative"));
  syncControls();
}

export function setRole(isAdmin) {
  detail.setRole(isAdmin);
}

/** Returns the load's promise, so start-up can wait for the first page. */
export function show(params) {
  visible = true;
  if (applyParams(state, params) || stale) {
    syncControls();
    return load();
  }
  writeHash();
  return Promise.resolve();
}

export function hide() {
  visible = false;
}

/** After a drop, read the page again. On the first open only the alerts newer
 * than the top row can be missing: ask for just those (cheap on a big backlog). */
export function reconnected(first) {
  if (!visible) stale = true;
  else if (first && atHead() && !controller) catchUp();
  else load({ quiet: true });
}

async function catchUp() {
  const top = $("#alerts-table tbody tr.alert-row td.col-time");
  if (!top) return load({ quiet: true });
  const body = { fields: live.LIVE_ALERT_FIELDS };
  const pairs = regexAll(state);
  if (pairs.length) body.regex_all = pairs;
  try {
    const missed = await getJSON(`alerts/last-time/${top.dataset.ts}/alerts.json`, { body });
    for (const rec of missed) {
      if (!atHead() || shown.has(String(rec[A + "hash"])) || !matches(state, rec)) continue;
      counts.lastRow += 1;
      counts.totalRow += 1;
      insertBatch(rec);
    }
  } catch {
    load({ quiet: true });
  }
}

export function reset() {
  Object.assign(state, DEFAULTS);
  newCount = 0;
  stale = true;
  shown = new Set();
  showNewCount();
  replaceChildren($("#alerts-table tbody"));
  detail.close();
  syncControls();
}
