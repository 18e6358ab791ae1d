// The eventbus websocket: one connection for the whole console, re-opened by itself
// after a drop (0.5 s doubling to 5 s), so a server restart needs no reload.

import { setServerTime } from "./time.js";

const MIN_DELAY = 500;
const MAX_DELAY = 5000;

// Only what the table and the glance page show: an event for each of 1 000 alerts a
// minute should cost little to send and to parse.
export const LIVE_ALERT_FIELDS = [
  "kismet.alert.hash",
  "kismet.alert.timestamp",
  "kismet.alert.severity",
  "kismet.alert.header",
  "kismet.alert.class",
  "kismet.alert.text",
  "kismet.alert.transmitter_mac",
  "kismet.alert.channel",
  // Not shown, but searched: a live alert must pass the search as the server would.
  "kismet.alert.source_mac",
  "kismet.alert.dest_mac",
  "kismet.alert.other_mac",
];

const listeners = { ALERT: new Set(), MESSAGE: new Set(), state: new Set(), reconnect: new Set(), failed: new Set() };

let socket = null;
let wanted = false;
let delay = MIN_DELAY;
let timer = 0;
let state = "reconnecting";
let openedBefore = false; // since start(): the first open only needs a catch-up

export function on(topic, fn) {
  listeners[topic].add(fn);
  return () => listeners[topic].delete(fn);
}

export function liveState() {
  return state;
}

function setState(next) {
  state = next;
  for (const fn of listeners.state) fn(next);
}

function url() {
  const u = new URL("eventbus/events.ws", document.baseURI);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.href;
}

function dispatch(frame) {
  if (frame.TIMESTAMP) {
    const t = frame.TIMESTAMP;
    setServerTime(t["kismet.system.timestamp.sec"] + t["kismet.system.timestamp.usec"] / 1e6);
  }
  for (const topic of ["ALERT", "MESSAGE"]) {
    if (frame[topic]) for (const fn of listeners[topic]) fn(frame[topic]);
  }
}

function open() {
  timer = 0;
  let opened = false;
  const ws = new WebSocket(url());
  socket = ws;
  ws.addEventListener("open", () => {
    opened = true;
    delay = MIN_DELAY;
    ws.send(JSON.stringify({ SUBSCRIBE: "ALERT", fields: LIVE_ALERT_FIELDS }));
    ws.send(JSON.stringify({ SUBSCRIBE: "MESSAGE" }));
    ws.send(JSON.stringify({ SUBSCRIBE: "TIMESTAMP" }));
  });
  let subscribed = false;
  ws.addEventListener("message", (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    if (!subscribed && frame.TIMESTAMP) {
      // The server takes a connection's frames in order, so the first tick proves
      // the ALERT subscription sent before it is in effect: only now is the feed
      // live, and what happened while the socket was down (or, the first time,
      // between the first page read and the subscription) is fetched again.
      subscribed = true;
      setState("live");
      const first = !openedBefore;
      openedBefore = true;
      for (const fn of listeners.reconnect) fn(first);
    }
    dispatch(frame);
  });
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    socket = null;
    setState("reconnecting");
    if (!wanted) return;
    // A refused handshake (login gone) and a revoked session (1008) look the same
    // as a restart from here; main.js asks whoami and logs out if it must.
    if (!opened || event.code === 1008) for (const fn of listeners.failed) fn(event.code);
    if (!wanted) return;
    timer = setTimeout(open, delay);
    delay = Math.min(delay * 2, MAX_DELAY);
  });
}

export function start() {
  if (wanted) return;
  wanted = true;
  openedBefore = false;
  delay = MIN_DELAY;
  open();
}

export function stop() {
  wanted = false;
  clearTimeout(timer);
  timer = 0;
  if (socket) {
    const ws = socket;
    socket = null;
    ws.close(1000, "logged out");
  }
  setState("reconnecting");
}
