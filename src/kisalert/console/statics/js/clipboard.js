// Copy text to the clipboard. navigator.clipboard needs a secure context (https or
// localhost); a console reached over plain http on a LAN address falls back to a
// selected, off-screen text field.

export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused (e.g. headless); try the old way.
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/** Copy, then say so on the button for a moment. */
export async function copyButton(button, text) {
  const label = button.textContent;
  const ok = await copyText(text);
  button.textContent = ok ? "copied" : "copy failed";
  button.classList.toggle("copied", ok);
  setTimeout(() => {
    button.textContent = label;
    button.classList.remove("copied");
  }, 1500);
}
