// The alert definitions, shared by the filters, the detail pane, the raise form and
// the definitions page: fetched once, and again after a define or a reconnect.

import { getJSON } from "./api.js";

const D = "kismet.alert.definition.";
const S = "kisalert.definition.";
const UNITS = ["second", "minute", "hour", "day"];

let definitions = [];
let byName = new Map();
let loading = null;
const listeners = new Set();

export function onDefinitions(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Fetch both the Kismet records and kisalert's state view (enabled, rates as text). */
export function loadDefinitions() {
  if (loading) return loading;
  loading = (async () => {
    try {
      const [defs, states] = await Promise.all([
        getJSON("alerts/definitions.json"),
        getJSON("alerts/definitions/state.json").catch(() => []),
      ]);
      const stateBy = new Map(states.map((s) => [s[S + "header"], s]));
      definitions = defs.map((d) => {
        const name = d[D + "header"];
        const st = stateBy.get(name) || {};
        return {
          name,
          cls: d[D + "class"],
          severity: d[D + "severity"],
          description: d[D + "description"],
          phyid: d[D + "phyid"],
          limitRate: d[D + "limit_rate"],
          limitUnit: d[D + "limit_unit"],
          burstRate: d[D + "limit_burst"],
          burstUnit: d[D + "burst_unit"],
          burstSent: d[D + "burst_sent"],
          totalSent: d[D + "total_sent"],
          timeLast: d[D + "time_last"],
          throttle: st[S + "throttle"],
          burst: st[S + "burst"],
          enabled: st[S + "enabled"] ?? (d[D + "limit_rate"] > 0 && d[D + "limit_burst"] > 0),
          origin: st[S + "origin"],
        };
      });
      byName = new Map(definitions.map((d) => [d.name, d]));
      for (const fn of listeners) fn(definitions);
      return definitions;
    } finally {
      loading = null;
    }
  })();
  return loading;
}

export function allDefinitions() {
  return definitions;
}

export function definition(name) {
  return byName.get(name);
}

/** The classes in use, sorted, for the class filter. */
export function classes() {
  return Array.from(new Set(definitions.map((d) => d.cls))).sort();
}

function per(count, unit) {
  const word = UNITS[unit] ?? "unit";
  return `${count} per ${word}`;
}

/** "at most 10 per minute, in bursts of at most 1 per second" */
export function ratesInWords(def) {
  if (!def) return "unknown definition";
  if (def.limitRate === 0 || def.burstRate === 0) return "disabled (a rate of 0 sends nothing)";
  return `at most ${per(def.limitRate, def.limitUnit)}, in bursts of at most ${per(def.burstRate, def.burstUnit)}`;
}

/** "10/min" as the state view writes it, or built from the numbers. */
export function rateText(def, which) {
  if (which === "throttle") return def.throttle ?? `${def.limitRate}/${["sec", "min", "hour", "day"][def.limitUnit]}`;
  return def.burst ?? `${def.burstRate}/${["sec", "min", "hour", "day"][def.burstUnit]}`;
}
