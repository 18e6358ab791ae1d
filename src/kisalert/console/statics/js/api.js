// Fetch wrappers for the public API. Every URL is relative, so it resolves against
// <base href> and the console works under httpd_uri_prefix.

/** An answer other than 2xx; `message` is the server's one-line text reason. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
  }
}

// Set by main.js: called when a request finds the login gone (expired, logged out
// elsewhere, server restarted), so the console can show the login form.
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

async function errorText(response) {
  let text = "";
  try {
    text = (await response.text()).trim();
  } catch {
    // The body is lost; the status line below still says what happened.
  }
  // Some errors (404 by-id, bad timestamps) answer "{}": say something useful.
  if (!text || text === "{}") text = `${response.status} ${response.statusText || "error"}`;
  // Keep the first line: the server's reasons are one-liners, and a proxy's HTML
  // error page would be noise (it is shown as text anyway, never parsed).
  return text.split("\n")[0].slice(0, 300);
}

async function request(path, { method = "GET", body, headers = {}, query, signal, auth = true } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
    }
    const qs = params.toString();
    if (qs) url += (url.includes("?") ? "&" : "?") + qs;
  }
  const init = { method, headers: { ...headers }, credentials: "same-origin", cache: "no-store", signal };
  if (body !== undefined) {
    init.method = method === "GET" ? "POST" : method;
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "Cannot reach the server");
  }
  if (!response.ok) {
    const message = await errorText(response);
    if (response.status === 401 && auth) onUnauthorized(message);
    throw new ApiError(response.status, message);
  }
  return response;
}

/** GET (or POST with a JSON body when `body` is given) a .json route. */
export async function getJSON(path, options = {}) {
  const response = await request(path, options);
  return response.json();
}

/** POST a command dictionary; the answer is text (a token, "Alert raised", or ""). */
export async function command(path, args) {
  const response = await request(path, { method: "POST", body: args });
  return (await response.text()).trim();
}

/** POST with no body: session/login and session/logout. */
export async function post(path, headers = {}, auth = true) {
  const response = await request(path, { method: "POST", headers, auth });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** GET session/whoami.json without treating 401 as "session lost": at start-up a
 * 401 just means nobody has logged in yet. */
export async function whoami() {
  const response = await request("session/whoami.json", { auth: false });
  return response.json();
}

function basic(user, password) {
  // btoa() takes Latin-1 only; a password may hold any character.
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return "Basic " + btoa(binary);
}

export function login({ user, password, key }) {
  const authorization = key ? `Bearer ${key}` : basic(user, password);
  return post("session/login", { Authorization: authorization }, false);
}

export function logout() {
  return post("session/logout", {}, false);
}

/** Escape text for an RE2 pattern, so a name with "." matches only itself. */
export function reEscape(text) {
  return String(text).replace(/[\\^$.|?*+()[\]{}]/g, "\\$&");
}

/** An exact, anchored `regex_all` pair. */
export function exact(path, value) {
  return [path, `^${reEscape(value)}$`];
}
