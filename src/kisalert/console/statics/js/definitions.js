// The definitions page: every definition with its rates and counters, and for an
// admin the define and raise forms.

import { command } from "./api.js";
import { $, el, replaceChildren, showResult, fromTemplate, debounce } from "./dom.js";
import { severityName, severityClass } from "./severity.js";
import { absoluteTitle, relative } from "./time.js";
import { loadDefinitions, onDefinitions, allDefinitions, rateText, ratesInWords } from "./definition_cache.js";

let visible = false;
let admin = false;
let filter = "";
const expanded = new Set(); // names whose whole description is shown; kept across refreshes

function row(def) {
  const last = def.timeLast
    ? el("span", { title: absoluteTitle(def.timeLast), text: relative(def.timeLast) })
    : el("span", { class: "muted", text: "never" });
  return el(
    "tr",
    { class: [def.enabled === false && "disabled", expanded.has(def.name) && "expanded"], data: { name: def.name } },
    el("td", { class: "mono strong", text: def.name }),
    el("td", { text: def.cls }),
    el("td", { class: severityClass(def.severity) }, el("span", { class: "sev-badge", text: severityName(def.severity) })),
    el("td", { class: "mono", text: rateText(def, "throttle"), title: ratesInWords(def) }),
    el("td", { class: "mono", text: rateText(def, "burst"), title: ratesInWords(def) }),
    el("td", { class: "num", text: def.totalSent, title: `${def.burstSent} in the current burst window` }),
    el("td", { class: "col-time" }, last),
    el("td", { class: "col-description", text: def.description, title: "Click to show the whole description" }),
  );
}

function render() {
  if (!visible) return;
  const needle = filter.toLowerCase();
  const defs = allDefinitions().filter(
    (d) => !needle || [d.name, d.cls, d.description, severityName(d.severity)].some((t) => String(t).toLowerCase().includes(needle)),
  );
  replaceChildren($("#definitions-table tbody"), defs.map(row));
}

function fillRaiseNames() {
  const select = $("#raise-name");
  if (!select) return;
  const keep = select.value;
  const names = allDefinitions().map((d) => d.name).sort();
  replaceChildren(select, names.map((n) => el("option", { value: n, text: n })));
  if (names.includes(keep)) select.value = keep;
}

function value(id) {
  return $(id).value.trim();
}

async function define(event) {
  event.preventDefault();
  const result = $("#define-result");
  const args = {
    name: value("#define-name"),
    description: $("#define-description").value,
    severity: Number($("#define-severity").value),
  };
  // Left empty, these take the server's defaults (OTHER; the config's or 10/min, 1/sec).
  if (value("#define-class")) args.class = value("#define-class");
  if (value("#define-throttle")) args.throttle = value("#define-throttle");
  if (value("#define-burst")) args.burst = value("#define-burst");
  showResult(result, "defining…", false);
  try {
    const text = await command("alerts/definitions/define_alert.cmd", args);
    showResult(result, text || "defined", false);
    await loadDefinitions();
    if ($("#raise-name")) $("#raise-name").value = args.name.toUpperCase();
  } catch (err) {
    showResult(result, err.message, true);
  }
}

async function raise(event) {
  event.preventDefault();
  const result = $("#raise-result");
  const args = { name: $("#raise-name").value, text: $("#raise-text").value };
  for (const key of ["bssid", "source", "dest", "other", "channel"]) {
    const v = value(`#raise-${key}`);
    if (v) args[key] = v;
  }
  showResult(result, "raising…", false);
  try {
    const text = await command("alerts/raise_alerts.cmd", args);
    showResult(result, text || "raised", false);
    loadDefinitions().catch(() => {});
  } catch (err) {
    showResult(result, err.message, true);
  }
}

export function setRole(isAdmin) {
  admin = isAdmin;
  const slot = $("#definitions-admin");
  if (!admin) {
    replaceChildren(slot);
    return;
  }
  if ($("#define-form")) return;
  slot.append(fromTemplate("tpl-definitions-admin"));
  $("#define-form").addEventListener("submit", define);
  $("#raise-form").addEventListener("submit", raise);
  fillRaiseNames();
}

export function init() {
  // Descriptions run to a paragraph: one line each until a row is clicked.
  $("#definitions-table tbody").addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-name]");
    if (!tr) return;
    const name = tr.dataset.name;
    if (!expanded.delete(name)) expanded.add(name);
    tr.classList.toggle("expanded", expanded.has(name));
  });
  onDefinitions(() => {
    render();
    fillRaiseNames();
  });
  $("#definitions-search").addEventListener(
    "input",
    debounce(() => {
      filter = $("#definitions-search").value.trim();
      render();
    }, 150),
  );
}

async function refresh() {
  try {
    await loadDefinitions();
    showResult($("#definitions-error"), "", false);
  } catch (err) {
    showResult($("#definitions-error"), err.message, true);
  }
}

export function show() {
  visible = true;
  render();
  refresh();
}

export function hide() {
  visible = false;
}

export function reconnected(first) {
  if (visible && !first) refresh();
}

export function reset() {
  setRole(false);
  replaceChildren($("#definitions-table tbody"));
}

// Keep the page honest while it is open: "sent" and "last alert" move with every alert.
setInterval(() => {
  if (visible && !document.hidden) refresh();
}, 10000);
