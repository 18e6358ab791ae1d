// Start-up, the login session and the router. Each page module exposes
// init() once, show(params) when its route is entered and hide() when left;
// pages that hold live data also refresh on reconnect.

import { setUnauthorizedHandler, whoami, getJSON, logout } from "./api.js";
import { $, $$ } from "./dom.js";
import * as live from "./live.js";
import * as session from "./session.js";
import { setServerTime } from "./time.js";
import { loadDefinitions } from "./definition_cache.js";
import * as alerts from "./alerts.js";
import * as glance from "./glance.js";
import * as definitions from "./definitions.js";
import * as messages from "./messages.js";
import * as silences from "./silences.js";
import * as apikeys from "./apikeys.js";

const PAGES = { alerts, glance, definitions, messages, silences, apikeys };
const ADMIN_ONLY = new Set(["silences", "apikeys"]);

let user = null; // {name, role} while logged in
let current = null;

function isAdmin() {
  return user?.role === "admin";
}

/** "#/alerts?header=X" -> ["alerts", URLSearchParams] */
function parseHash() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [name, query = ""] = hash.split("?");
  return [name || "alerts", new URLSearchParams(query)];
}

function route() {
  if (!user) return;
  let [name, params] = parseHash();
  // Own pages only: `#/__proto__` or `#/constructor` name what every object inherits.
  if (!Object.hasOwn(PAGES, name) || (ADMIN_ONLY.has(name) && !isAdmin())) {
    name = "alerts";
    params = new URLSearchParams();
    history.replaceState(null, "", "#/alerts");
  }
  if (current && current !== name) PAGES[current].hide?.();
  for (const [key] of Object.entries(PAGES)) $(`#${key}-page`).hidden = key !== name;
  for (const link of $$(".nav a")) {
    const active = link.getAttribute("href") === `#/${name}`;
    link.classList.toggle("active", active);
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  current = name;
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · kisalert`;
  return PAGES[name].show(params);
}

function showLogin(message) {
  live.stop();
  if (current) PAGES[current].hide?.();
  current = null;
  user = null;
  for (const page of Object.values(PAGES)) page.reset?.();
  $("#app-view").hidden = true;
  session.showLoginForm(message);
}

async function enter(who) {
  if (who.role !== "admin" && who.role !== "readonly") {
    // Every route would answer 403 and the live feed retry for ever: say so once.
    await logout().catch(() => {});
    showLogin(`The role '${who.role}' of ${who.name} cannot use the console: it needs an admin or readonly login.`);
    return;
  }
  user = who;
  const admin = isAdmin();
  $("#login-view").hidden = true;
  $("#app-view").hidden = false;
  $("#whoami").textContent = `${who.name} (${who.role})`;
  for (const name of ADMIN_ONLY) $(`.nav a[href="#/${name}"]`).hidden = !admin;
  for (const page of Object.values(PAGES)) page.setRole?.(admin);
  // The page the user asked for first, alone: on a big backlog the server answers
  // it sooner when the definitions and the clock are not asked for at the same time.
  const first = route();
  await Promise.race([first, new Promise((resolve) => setTimeout(resolve, 1000))]).catch(() => {});
  if (user !== who) return;
  getJSON("system/timestamp.json")
    .then((t) => setServerTime(t["kismet.system.timestamp.sec"] + t["kismet.system.timestamp.usec"] / 1e6))
    .catch(() => {});
  loadDefinitions().catch(() => {});
  live.start();
}

// Called when the socket could not open or was closed by policy: either the server
// is restarting (keep retrying) or the login is gone (show the form).
async function checkSession() {
  if (!user) return;
  try {
    await whoami();
  } catch (err) {
    if (err.status === 401) showLogin("Your session has ended; please log in again.");
  }
}

function init() {
  for (const page of Object.values(PAGES)) page.init();
  session.init({
    onLogin: enter,
    onLogout: () => showLogin(""),
  });
  setUnauthorizedHandler((message) => {
    if (user) showLogin(message && message !== "401 Unauthorized" ? `Logged out: ${message}` : "Your session has ended; please log in again.");
  });
  live.on("state", (state) => {
    const node = $("#live-state");
    node.textContent = state;
    node.classList.toggle("is-live", state === "live");
  });
  live.on("failed", checkSession);
  live.on("reconnect", (first) => {
    if (!user) return;
    if (!first) loadDefinitions().catch(() => {});
    for (const page of Object.values(PAGES)) page.reconnected?.(first);
  });
  window.addEventListener("hashchange", route);
  whoami()
    .then(enter)
    .catch((err) => showLogin(err.status === 401 ? "" : err.message));
}

init();
