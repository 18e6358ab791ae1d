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

// The read of the messagebus in flight, with the live messages that came meanwhile
// (shown then, they were wiped by its answer, or shown twice with it), or null. A
// newer read takes over an older one's messages, and only the newest is shown.
let reading = null;

function key(msg) {
  return `${msg[M + "message_time"]}\u0000${msg[M + "message_flags"]}\u0000${msg[M + "message_string"]}`;
}

async function load() {
  stale = false;
  const mine = { arriving: reading ? reading.arriving : [] };
  reading = mine;
  insert.flush(); // what was queued before the read: the read decides on it too
  let late = mine.arriving;
  try {
    const messages = await getJSON("messagebus/all_messages.json");
    if (reading !== mine) return;
    replaceChildren($("#messages-table tbody"), messages.slice().reverse().map(row));
    // Those the answer holds already are left out, each as many times as it holds it.
    const held = new Map();
    for (const msg of messages) held.set(key(msg), (held.get(key(msg)) || 0) + 1);
    late = mine.arriving.filter((msg) => {
      const count = held.get(key(msg)) || 0;
      if (count) held.set(key(msg), count - 1);
      return !count;
    });
    showResult($("#messages-error"), "", false);
  } catch (err) {
    if (reading !== mine) return;
    showResult($("#messages-error"), err.message, true);
  }
  reading = null;
  for (const msg of late) insert(msg);
}

const insert = frameBatcher((batch) => {
  if (reading) {
    reading.arriving.push(...batch); // queued before a read began: the read decides
    return;
  }
  const tbody = $("#messages-table tbody");
  const frag = document.createDocumentFragment();
  for (const msg of batch.slice(-MAX_ROWS).reverse()) frag.append(row(msg));
  tbody.prepend(frag);
  while (tbody.rows.length > MAX_ROWS) tbody.lastElementChild.remove();
});

function onMessage(msg) {
  if (!visible) stale = true;
  else if (reading) reading.arriving.push(msg);
  else insert(msg);
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
