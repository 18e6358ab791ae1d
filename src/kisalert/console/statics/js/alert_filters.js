// The alerts page's filter state: how it maps to the URL hash (so a view can be
// bookmarked or linked from the detail pane) and the client-side test a live alert
// must pass to join the table, mirroring what the server's view would do.

import { exact } from "./api.js";
import { severityName } from "./severity.js";

const A = "kismet.alert.";
const TIME = A + "timestamp";

export const DEFAULTS = {
  page: 0,
  sort: TIME,
  dir: "desc",
  search: "",
  severity: "",
  cls: "",
  header: "",
  transmitter: "",
};

// state key -> hash parameter
const PARAMS = {
  search: "q",
  severity: "severity",
  cls: "class",
  header: "header",
  transmitter: "transmitter",
  page: "page",
  sort: "sort",
  dir: "dir",
};

/** Apply "#/alerts?header=X&..." to the state. A bare "#/alerts" keeps the current
 * view; any parameter sets the whole view (absent ones go back to defaults).
 * Returns whether anything changed. */
export function applyParams(state, params) {
  if (![...params.keys()].length) return false;
  const next = { ...DEFAULTS };
  for (const [key, name] of Object.entries(PARAMS)) {
    if (params.has(name)) next[key] = params.get(name);
  }
  next.page = Math.max(0, Number.parseInt(next.page, 10) || 0);
  next.dir = next.dir === "asc" ? "asc" : "desc";
  next.severity = next.severity.toUpperCase();
  next.transmitter = next.transmitter.toUpperCase();
  let changed = false;
  for (const key of Object.keys(DEFAULTS)) {
    if (state[key] !== next[key]) {
      state[key] = next[key];
      changed = true;
    }
  }
  return changed;
}

export function toParams(state) {
  const params = new URLSearchParams();
  for (const [key, name] of Object.entries(PARAMS)) {
    if (state[key] !== DEFAULTS[key]) params.set(name, String(state[key]));
  }
  return params;
}

// A search is sent without `fields`, so the server searches its default set:
// these strings and the severity's name (alerts.js, load).
const SEARCHED = ["header", "class", "text", "transmitter_mac", "source_mac", "dest_mac", "other_mac", "channel"];

/** Would the server's view, with the current filters and search, include `rec`? */
export function matches(state, rec) {
  if (state.severity && severityName(rec[A + "severity"]) !== state.severity) return false;
  if (state.cls && rec[A + "class"] !== state.cls) return false;
  if (state.header && rec[A + "header"] !== state.header) return false;
  if (state.transmitter && rec[A + "transmitter_mac"] !== state.transmitter) return false;
  if (!state.search) return true;
  const needle = state.search.toLowerCase();
  if (severityName(rec[A + "severity"]).toLowerCase().includes(needle)) return true;
  return SEARCHED.some((key) => String(rec[A + key] ?? "").toLowerCase().includes(needle));
}

/** The filters as `regex_all` pairs, each an anchored exact match (contract). */
export function regexAll(state) {
  const pairs = [];
  if (state.severity) pairs.push(exact(A + "severity", state.severity));
  if (state.cls) pairs.push(exact(A + "class", state.cls));
  if (state.header) pairs.push(exact(A + "header", state.header));
  if (state.transmitter) pairs.push(exact(A + "transmitter_mac", state.transmitter));
  return pairs;
}
