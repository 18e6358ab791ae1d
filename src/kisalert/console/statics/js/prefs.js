// Small preferences (rows per page, time mode) kept in localStorage. Storage may be
// disabled or full; the console then simply forgets them.

const PREFIX = "kisalert.";

export function recall(key, fallback) {
  try {
    return localStorage.getItem(PREFIX + key) ?? fallback;
  } catch {
    return fallback;
  }
}

export function remember(key, value) {
  try {
    localStorage.setItem(PREFIX + key, String(value));
  } catch {
    // Not remembered, that is all.
  }
}
