// The login form and the logout button. The server answers a login with an
// HttpOnly cookie: the console never sees or stores a credential itself.

import { login, logout, whoami } from "./api.js";
import { $, showResult } from "./dom.js";

let handlers = { onLogin: () => {}, onLogout: () => {} };

export function showLoginForm(message) {
  $("#login-view").hidden = false;
  showResult($("#login-error"), message || "", Boolean(message));
  $("#login-password").value = "";
  $("#login-key").value = "";
  const focus = $("#login-user").value ? $("#login-password") : $("#login-user");
  focus.focus();
}

async function submit(event) {
  event.preventDefault();
  const button = $("#login-submit");
  const key = $("#login-key").value.trim();
  const credentials = { user: $("#login-user").value, password: $("#login-password").value, key };
  if (!key && !credentials.password) {
    showResult($("#login-error"), "Enter the password, or an API key.", true);
    return;
  }
  button.disabled = true;
  showResult($("#login-error"), "", false);
  try {
    let who = await login(credentials);
    // The login answers {name, role}; ask whoami if a proxy or an old server did not.
    if (!who || typeof who !== "object" || !who.role) who = await whoami();
    $("#login-password").value = "";
    $("#login-key").value = "";
    handlers.onLogin(who);
  } catch (err) {
    showResult($("#login-error"), err.message, true);
  } finally {
    button.disabled = false;
  }
}

async function doLogout() {
  try {
    await logout();
  } catch {
    // Logged out locally either way; the cookie dies with the session.
  }
  handlers.onLogout();
}

export function init(h) {
  handlers = h;
  $("#login-form").addEventListener("submit", submit);
  $("#logout").addEventListener("click", doLogout);
}
