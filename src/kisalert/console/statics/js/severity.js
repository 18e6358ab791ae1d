// Severities as model.md defines them. Colour is never the only signal: the word is
// always shown beside it.

export const SEVERITIES = [
  { value: 0, name: "INFO" },
  { value: 5, name: "LOW" },
  { value: 10, name: "MEDIUM" },
  { value: 15, name: "HIGH" },
  { value: 20, name: "CRITICAL" },
];

const BY_VALUE = new Map(SEVERITIES.map((s) => [s.value, s.name]));

/** The name of a severity number, or the number itself when it is not a known one. */
export function severityName(value) {
  return BY_VALUE.get(Number(value)) ?? String(value);
}

/** The CSS class that colours a row or cell: sev-info ... sev-critical. */
export function severityClass(value) {
  const name = BY_VALUE.get(Number(value));
  return name ? `sev-${name.toLowerCase()}` : "sev-unknown";
}
