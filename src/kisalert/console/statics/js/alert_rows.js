// One row of the alerts table. Every alert string goes in as text: SSIDs and
// texts come from the air and are attacker-controlled.

import { el, setText } from "./dom.js";
import { severityName, severityClass } from "./severity.js";
import { relative, absolute, absoluteTitle } from "./time.js";

const A = "kismet.alert.";
const NO_MAC = "00:00:00:00:00:00";

function timeText(ts, mode) {
  return mode === "relative" ? relative(ts) : absolute(ts);
}

/** A <tr class="alert-row"> for a record holding at least the table's fields. */
export function row(rec, timeMode) {
  const sev = rec[A + "severity"];
  const ts = rec[A + "timestamp"];
  const text = rec[A + "text"] ?? "";
  const mac = rec[A + "transmitter_mac"];
  return el(
    "tr",
    { class: ["alert-row", severityClass(sev)], tabindex: 0, data: { hash: rec[A + "hash"] } },
    el("td", { class: "col-time", title: absoluteTitle(ts), text: timeText(ts, timeMode), data: { ts } }),
    el("td", { class: ["col-severity", severityClass(sev)] }, el("span", { class: "sev-badge", text: severityName(sev) })),
    el("td", { class: "col-header", text: rec[A + "header"] }),
    el("td", { class: "col-class", text: rec[A + "class"] }),
    // Long texts are cut with an ellipsis; the title keeps the whole of it.
    el("td", { class: "col-text", text, title: text.length > 60 ? text : null }),
    // An unset transmitter is greyed, not hidden: it is still what a search sees.
    el("td", { class: ["col-transmitter", "mono", mac === NO_MAC && "unset"], text: mac }),
    el("td", { class: "col-channel", text: rec[A + "channel"] }),
  );
}

/** Rewrite the time cells of a table body (after a mode switch, or as time passes). */
export function refreshTimes(tbody, timeMode) {
  for (const td of tbody.querySelectorAll("td.col-time")) setText(td, timeText(Number(td.dataset.ts), timeMode));
}
