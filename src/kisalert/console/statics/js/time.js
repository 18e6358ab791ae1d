// Times. Alerts are stamped with the server's clock, so "5 s ago" is measured against
// the server's clock too (learned from system/timestamp and the eventbus's
// TIMESTAMP frames), not the browser's, which may be minutes off.

let skew = 0; // server seconds minus browser seconds

export function setServerTime(seconds) {
  if (Number.isFinite(seconds) && seconds > 0) skew = seconds - Date.now() / 1000;
}

/** The server's "now", in epoch seconds. */
export function serverNow() {
  return Date.now() / 1000 + skew;
}

const pad = (n, width = 2) => String(n).padStart(width, "0");

/** Local time, ISO-like: 2025-11-29 14:03:05. */
export function absolute(ts, withMillis = false) {
  if (!ts) return "never";
  const d = new Date(ts * 1000);
  const base = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMillis ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}

/** The full local time with its UTC offset, for titles. */
export function absoluteTitle(ts) {
  if (!ts) return "";
  const offset = -new Date(ts * 1000).getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return `${absolute(ts, true)} UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** "5 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function relative(ts, now = serverNow()) {
  if (!ts) return "never";
  const age = now - ts;
  // Never "just now": a clock a little ahead of the server's still says "0 s ago".
  if (age < 60) return `${Math.max(0, Math.floor(age))} s ago`;
  if (age < 3600) return `${Math.floor(age / 60)} min ago`;
  if (age < 86400) return `${Math.floor(age / 3600)} h ago`;
  return `${Math.floor(age / 86400)} d ago`;
}

// One shared ticker for every relative time on screen.
const tickers = new Set();
export function onTick(fn) {
  tickers.add(fn);
  return () => tickers.delete(fn);
}
setInterval(() => {
  if (document.hidden) return;
  for (const fn of tickers) fn();
}, 1000);
