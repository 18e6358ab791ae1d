// The silences page (admin only): what keeps alerts from the outputs, a form to make
// one, and ending one early. `#/silences?transmitter=…&header=…` (the detail pane's
// "Silence this …" links) opens the form filled in with that alert's values.

import { getJSON, post } from "./api.js";
import { $, el, replaceChildren, showResult, fromTemplate } from "./dom.js";
import { absolute, absoluteTitle, serverNow } from "./time.js";
import { onDefinitions, allDefinitions } from "./definition_cache.js";

const S = "kisalert.silence.";
// The server's matchers, in the order the form and the list show them.
const MATCHERS = ["header", "transmitter", "source", "dest", "other", "mac", "channel", "text"];
// The ones the form has (`other` is rare enough for the API alone).
const FIELDS = MATCHERS.filter((key) => key !== "other");
const UNITS = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const CONFIG_WHY = "From a silence= line in the config file: it holds while the line is there (or until its expires=), so only editing the file ends it.";

let visible = false;
let mounted = false;

function when(ts) {
  if (!ts) return el("span", { class: "muted", text: "never" });
  return el("span", { title: absoluteTitle(ts), text: absolute(ts) });
}

function matcherNodes(matchers) {
  const keys = Object.keys(matchers).sort((a, b) => MATCHERS.indexOf(a) - MATCHERS.indexOf(b));
  return keys.map((key) => el("span", { class: "matcher" }, el("span", { class: "matcher-key", text: key }), el("span", { class: "mono", text: matchers[key] })));
}

async function expire(id, button) {
  button.disabled = true;
  try {
    await post(`forward/silences/by-id/${encodeURIComponent(id)}/expire.cmd`);
    showResult($("#silences-error"), "", false);
    await load();
  } catch (err) {
    button.disabled = false;
    showResult($("#silences-error"), err.message, true);
  }
}

function action(silence) {
  const id = silence[S + "id"];
  if (silence[S + "origin"] === "config") return el("span", { class: "muted config-why", title: CONFIG_WHY, text: "set in the config file" });
  if (silence[S + "state"] === "expired") return null;
  const button = el("button", { type: "button", class: "expire danger", text: "Expire", title: "End this silence now" });
  button.addEventListener("click", () => expire(id, button));
  return button;
}

function row(silence) {
  const state = silence[S + "state"];
  return el(
    "tr",
    { class: ["silence-row", `silence-${state}`], data: { id: silence[S + "id"] } },
    el("td", null, el("span", { class: ["silence-state", `is-${state}`], text: state })),
    el("td", { class: "col-matchers" }, matcherNodes(silence[S + "matchers"])),
    el("td", { class: "col-comment", text: silence[S + "comment"] }),
    el("td", { class: "col-by", text: silence[S + "created_by"] }),
    el("td", { class: "col-time col-starts" }, when(silence[S + "starts"])),
    el("td", { class: "col-time col-expires" }, when(silence[S + "expires"])),
    el("td", { class: "num col-hits", text: silence[S + "hits"] }),
    el("td", { class: "actions" }, action(silence)),
  );
}

async function load() {
  try {
    const silences = await getJSON("forward/silences/all_silences.json");
    if (!mounted) return;
    replaceChildren($("#silences-table tbody"), silences.length ? silences.map(row) : el("tr", { class: "empty-row" }, el("td", { colspan: 8, text: "No silences" })));
    showResult($("#silences-error"), "", false);
  } catch (err) {
    if (mounted) showResult($("#silences-error"), err.message, true);
  }
}

function durationText() {
  const picked = $("#silence-duration").value;
  return picked === "custom" ? $("#silence-duration-custom").value.trim() : picked;
}

// Only a preview: the server parses the duration and says what is wrong with one.
function showUntil() {
  const found = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/i.exec(durationText());
  const seconds = found ? Number(found[1]) * UNITS[found[2].toLowerCase()] : 0;
  $("#silence-until").textContent = seconds > 0 ? `until ${absolute(serverNow() + seconds)}` : "";
}

function pickDuration() {
  const custom = $("#silence-duration").value === "custom";
  $("#silence-duration-custom").hidden = !custom;
  if (custom) $("#silence-duration-custom").focus();
  showUntil();
}

function fill(values) {
  for (const key of FIELDS) $(`#silence-${key}`).value = values[key] || "";
  $("#silence-comment").value = "";
}

async function create(event) {
  event.preventDefault();
  const result = $("#silence-result");
  const args = {};
  for (const key of FIELDS) {
    const value = $(`#silence-${key}`).value;
    // A text pattern is sent as typed: its spaces may be part of it.
    if (value.trim()) args[key] = key === "text" ? value : value.trim();
  }
  args.comment = $("#silence-comment").value;
  args.duration = durationText();
  showResult(result, "silencing…", false);
  try {
    const made = await getJSON("forward/silences/create.cmd", { body: args });
    showResult(result, `silenced until ${absolute(made[S + "expires"])}`, false);
    fill({});
    await load();
  } catch (err) {
    showResult(result, err.message, true);
  }
}

function fillHeaders() {
  const list = $("#silence-header-list");
  if (!list) return;
  replaceChildren(list, allDefinitions().map((d) => el("option", { value: d.name })).sort((a, b) => a.value.localeCompare(b.value)));
}

export function setRole(isAdmin) {
  const page = $("#silences-page");
  if (!isAdmin) {
    replaceChildren(page);
    mounted = false;
    return;
  }
  if (mounted) return;
  page.append(fromTemplate("tpl-silences"));
  $("#silence-form").addEventListener("submit", create);
  $("#silence-duration").addEventListener("change", pickDuration);
  $("#silence-duration-custom").addEventListener("input", showUntil);
  fillHeaders();
  mounted = true;
}

export function init() {
  onDefinitions(fillHeaders);
}

export function show(params) {
  visible = true;
  if (!mounted) return Promise.resolve();
  const given = Object.fromEntries(FIELDS.filter((key) => params?.get(key)).map((key) => [key, params.get(key)]));
  if (Object.keys(given).length) {
    fill(given);
    showResult($("#silence-result"), "", false);
    // The values are in the form now; a reload should not fill it again.
    history.replaceState(null, "", "#/silences");
    $("#silence-comment").focus();
  }
  showUntil();
  return load();
}

export function hide() {
  visible = false;
}

export function reconnected(first) {
  if (visible && mounted && !first) load();
}

export function reset() {
  setRole(false);
}
