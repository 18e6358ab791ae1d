// The messages page: the server's messagebus, newest first, live.

import { getJSON } from "./api.js";
import { $, el, replaceChildren, showResult, frameBatcher } from "./dom.js";
import * as live from "./live.js";
import { absolute, absoluteTitle } from "./time.js";

const M = "kismet.messagebus.";
const FLAGS = [
  [1, "DEBUG"],
  [2, "INFO"],
  [4, "ERROR"],
  [8, "ALERT"],
  [16, "FATAL"],
];
// The server keeps 50; live ones pile up on top while the page is open.
const MAX_ROWS = 500;

let visible = false;
let stale = true;

export function flagWords(flags) {
  const words = FLAGS.filter(([bit]) => flags & bit).map(([, word]) => word);
  return words.length ? words.join(" ") : String(flags);
}

function flagClass(flags) {
  if (flags & 16) return "msg-fatal";
  if (flags & 4) return "msg-error";
  if (flags & 8) return "msg-alert";
  if (flags & 1) return "msg-debug";
  return "msg-info";
}

function row(msg) {
  const ts = msg[M + "message_time"];
  const flags = msg[M + "message_flags"];
  return el(
    "tr",
    { class: flagClass(flags) },
    el("td", { class: "col-time", title: absoluteTitle(ts), text: absolute(ts) }),
    el("td", { class: "col-flags" }, el("span", { class: "flag-badge", text: flagWords(flags) })),
    el("td", { class: "col-text", text: msg[M + "message_string"] }),
  );
}

async function load() {
  stale = false;
  try {
    const messages = await getJSON("messagebus/all_messages.json");
    replaceChildren($("#messages-table tbody"), messages.slice().reverse().map(row));
    showResult($("#messages-error"), "", false);
  } catch (err) {
    showResult($("#messages-error"), err.message, true);
  }
}

const insert = frameBatcher((batch) => {
  const tbody = $("#messages-table tbody");
  const frag = document.createDocumentFragment();
  for (const msg of batch.slice(-MAX_ROWS).reverse()) frag.append(row(msg));
  tbody.prepend(frag);
  while (tbody.rows.length > MAX_ROWS) tbody.lastElementChild.remove();
});

function onMessage(msg) {
  if (visible) insert(msg);
  else stale = true;
}

export function init() {
  live.on("MESSAGE", onMessage);
}

export function show() {
  visible = true;
  if (stale) load();
}

export function hide() {
  visible = false;
}

export function reconnected() {
  if (visible) load();
  else stale = true;
}

export function reset() {
  stale = true;
  replaceChildren($("#messages-table tbody"));
}
