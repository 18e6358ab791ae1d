// The detail pane: the full record of one alert, fetched by id (the table holds
// only the columns it shows), with its definition's description and rates.

import { getJSON } from "./api.js";
import { $, $$, el, replaceChildren, showResult } from "./dom.js";
import { severityName, severityClass } from "./severity.js";
import { absoluteTitle, relative } from "./time.js";
import { definition, ratesInWords, rateText, loadDefinitions } from "./definition_cache.js";
import { copyButton } from "./clipboard.js";

const A = "kismet.alert.";
const ANY_PHY = 4294967295;
const UNKNOWN_PHY = 4294967294;

let current = null; // hash of the alert shown
let request = 0;
let admin = false; // the "Silence this …" links lead to an admin-only page

export function openHash() {
  return current;
}

/** Nested records become "outer/inner" paths, as the API's field paths write them. */
function flatten(record, prefix = "", out = []) {
  for (const [key, value] of Object.entries(record)) {
    const path = prefix ? `${prefix}/${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value)) flatten(value, path, out);
    else out.push([path, value]);
  }
  return out;
}

function valueNodes(path, value) {
  if (path.endsWith("_mac")) {
    const button = el("button", { type: "button", class: "copy-mac", text: "copy", title: `Copy ${value}` });
    button.addEventListener("click", () => copyButton(button, String(value)));
    return [el("span", { class: "mono", text: value }), " ", button];
  }
  if (path === A + "timestamp") return [String(value), el("span", { class: "muted", text: ` ${absoluteTitle(value)} (${relative(value)})` })];
  if (path === A + "severity") return [el("span", { class: ["sev-badge", severityClass(value)], text: severityName(value) }), ` ${value}`];
  if (path === A + "phy_id") {
    const word = value === ANY_PHY ? " (any phy)" : value === UNKNOWN_PHY ? " (unknown phy)" : "";
    return [String(value), word];
  }
  if (Array.isArray(value)) return [JSON.stringify(value)];
  if (value === "") return [el("span", { class: "muted", text: "(empty)" })];
  return [String(value)];
}

function describe(header) {
  const def = definition(header);
  $("#detail-description").textContent = def ? def.description || "(no description)" : "No definition known for this header.";
  $("#detail-rates").textContent = def
    ? `Throttle ${rateText(def, "throttle")}, burst ${rateText(def, "burst")}: ${ratesInWords(def)}. ` +
      `${def.totalSent} sent in the current throttle window.`
    : "";
}

function render(rec) {
  const header = rec[A + "header"];
  const mac = rec[A + "transmitter_mac"];
  replaceChildren($("#detail-title"), el("span", { class: ["sev-badge", severityClass(rec[A + "severity"])], text: severityName(rec[A + "severity"]) }), " ", header);
  describe(header);
  if (!definition(header)) loadDefinitions().then(() => current === String(rec[A + "hash"]) && describe(header)).catch(() => {});
  $("#alert-detail a.same-header").setAttribute("href", `#/alerts?${new URLSearchParams({ header })}`);
  $("#alert-detail a.same-header").textContent = `All ${header} alerts`;
  const tx = $("#alert-detail a.same-transmitter");
  tx.setAttribute("href", `#/alerts?${new URLSearchParams({ transmitter: mac })}`);
  tx.textContent = `All alerts from ${mac}`;
  // An alert with no transmitter has nothing to follow.
  tx.hidden = mac === "00:00:00:00:00:00";
  $("#alert-detail a.silence-header").setAttribute("href", `#/silences?${new URLSearchParams({ header })}`);
  const silenceTx = $("#alert-detail a.silence-transmitter");
  silenceTx.setAttribute("href", `#/silences?${new URLSearchParams({ transmitter: mac })}`);
  silenceTx.hidden = tx.hidden;
  $("#detail-silence").hidden = !admin;
  replaceChildren(
    $("#detail-fields"),
    flatten(rec).map(([path, value]) => [el("dt", { text: path, title: path }), el("dd", null, valueNodes(path, value))]),
  );
}

export async function open(hash) {
  current = String(hash);
  const mine = ++request;
  const pane = $("#alert-detail");
  pane.hidden = false;
  pane.classList.add("loading");
  showResult($("#detail-error"), "", false);
  try {
    const rec = await getJSON(`alerts/by-id/${encodeURIComponent(hash)}/alert.json`);
    if (mine !== request) return;
    render(rec);
  } catch (err) {
    if (mine !== request) return;
    const message = err.status === 404 ? "This alert is no longer held by the server (it left the backlog)." : err.message;
    showResult($("#detail-error"), message, true);
    // Nothing of the alert shown before may stay under this one's error.
    $("#detail-title").textContent = "Alert";
    $("#detail-description").textContent = "";
    $("#detail-rates").textContent = "";
    replaceChildren($("#detail-fields"));
  } finally {
    if (mine === request) pane.classList.remove("loading");
  }
}

export function close() {
  current = null;
  request++;
  $("#alert-detail").hidden = true;
  for (const tr of $$("#alerts-table tbody tr.selected")) tr.classList.remove("selected");
}

function openRow(tr) {
  if (!tr) return;
  for (const other of $$("#alerts-table tbody tr.selected")) other.classList.remove("selected");
  tr.classList.add("selected");
  open(tr.dataset.hash);
}

// Rows are focusable: Enter opens one, the arrows move, and carry the pane along.
function rowKeys(event) {
  const tr = event.target.closest("tr.alert-row");
  if (!tr) return;
  if (event.key === "Enter") openRow(tr);
  else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    const next = event.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
    if (next) {
      next.focus();
      if (!$("#alert-detail").hidden) openRow(next);
    }
    event.preventDefault();
  }
}

/** Open the pane from the table's rows (one listener for all of them). */
export function bindRows(tbody) {
  tbody.addEventListener("click", (e) => openRow(e.target.closest("tr.alert-row")));
  tbody.addEventListener("keydown", rowKeys);
}

export function setRole(isAdmin) {
  admin = isAdmin;
}

export function init() {
  $("#detail-close").addEventListener("click", close);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !$("#alert-detail").hidden && !e.target.closest("input, select, textarea")) close();
  });
}
