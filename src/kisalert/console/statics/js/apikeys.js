// The API keys page (admin only): make a key, see its token once, revoke keys.

import { getJSON, command } from "./api.js";
import { $, el, replaceChildren, showResult, fromTemplate } from "./dom.js";
import { absolute, absoluteTitle, serverNow } from "./time.js";
import { copyButton } from "./clipboard.js";

const K = "kismet.httpd.auth.";
let visible = false;
let mounted = false;

function expiry(ts) {
  if (!ts) return el("span", { class: "muted", text: "never" });
  const expired = ts <= serverNow();
  return el("span", { class: expired ? "expired" : null, title: absoluteTitle(ts), text: expired ? `expired ${absolute(ts)}` : absolute(ts) });
}

async function revoke(name, button) {
  if (!window.confirm(`Revoke the API key "${name}"? Clients using it lose access at once.`)) return;
  button.disabled = true;
  try {
    await command("auth/apikey/revoke.cmd", { name });
    showResult($("#apikeys-error"), "", false);
    await load();
  } catch (err) {
    button.disabled = false;
    showResult($("#apikeys-error"), err.message, true);
  }
}

function row(key) {
  const name = key[K + "name"];
  const button = el("button", { type: "button", class: "revoke danger", text: "Revoke" });
  button.addEventListener("click", () => revoke(name, button));
  return el(
    "tr",
    { data: { name } },
    el("td", { class: "mono strong", text: name }),
    el("td", { text: key[K + "role"] }),
    el("td", null, expiry(key[K + "expiration"])),
    el("td", { class: "actions" }, button),
  );
}

async function load() {
  try {
    const keys = await getJSON("auth/apikey/list.json");
    keys.sort((a, b) => String(a[K + "name"]).localeCompare(String(b[K + "name"])));
    replaceChildren($("#apikeys-table tbody"), keys.length ? keys.map(row) : el("tr", { class: "empty-row" }, el("td", { colspan: 4, text: "No API keys" })));
    showResult($("#apikeys-error"), "", false);
  } catch (err) {
    showResult($("#apikeys-error"), err.message, true);
  }
}

async function generate(event) {
  event.preventDefault();
  const result = $("#apikey-result");
  const durationText = $("#apikey-duration").value.trim();
  const args = {
    name: $("#apikey-name").value.trim(),
    role: $("#apikey-role").value,
    // Sent as typed when it is not a whole number, so the server's reason is shown.
    duration: /^\d+$/.test(durationText || "0") ? Number(durationText || "0") : durationText,
  };
  $("#apikey-new").hidden = true;
  showResult(result, "generating…", false);
  try {
    const token = await command("auth/apikey/generate.cmd", args);
    $("#apikey-token").textContent = token;
    $("#apikey-new-name").textContent = args.name;
    $("#apikey-new-role").textContent = args.role;
    $("#apikey-new").hidden = false;
    showResult(result, `key "${args.name}" created`, false);
    $("#apikey-name").value = "";
    await load();
  } catch (err) {
    showResult(result, err.message, true);
  }
}

export function setRole(isAdmin) {
  const page = $("#apikeys-page");
  if (!isAdmin) {
    replaceChildren(page);
    mounted = false;
    return;
  }
  if (mounted) return;
  page.append(fromTemplate("tpl-apikeys"));
  $("#apikey-form").addEventListener("submit", generate);
  $("#apikey-copy").addEventListener("click", (e) => copyButton(e.currentTarget, $("#apikey-token").textContent));
  mounted = true;
}

export function init() {}

export function show() {
  visible = true;
  if (mounted) load();
}

export function hide() {
  visible = false;
  // The token is shown once: leaving the page forgets it.
  if (mounted) {
    $("#apikey-new").hidden = true;
    $("#apikey-token").textContent = "";
  }
}

export function reconnected(first) {
  if (visible && mounted && !first) load();
}

export function reset() {
  setRole(false);
}
