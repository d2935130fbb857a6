import type { V1LabelSelector, V1LabelSelectorRequirement } from "@kubernetes/client-node";
import { ChaosError } from "../../experiments/errors.js";

/**
 * Turns a label selector string ("app in (a,b),tier!=db,canary,!legacy") into the structured form a
 * NetworkPolicy needs, using the grammar of the Kubernetes API: terms separated by commas outside
 * parentheses; `k=v`, `k==v`, `k!=v`, `k in (…)`, `k notin (…)`, `k`, `!k`.
 * @throws ChaosError("invalid") naming the term it cannot read.
 */
export function parseLabelSelector(text: string): V1LabelSelectorRequirement[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const ch = text[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    if ((ch === "," && depth === 0) || i === text.length) {
      terms.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  return terms.map((term) => readTerm(term, text));
}

const KEY = "[A-Za-z0-9][-A-Za-z0-9_./]*";
const SET = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s+\(([^()]*)\)$`);
const EQ = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*([-A-Za-z0-9_.]*)$`);
const EXISTS = new RegExp(String.raw`^(!?)\s*(${KEY})$`);

function readTerm(term: string, whole: string): V1LabelSelectorRequirement {
  let m = SET.exec(term);
  if (m) {
    const values = m[3]!
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
    return { key: m[1]!, operator: m[2] === "in" ? "In" : "NotIn", values };
  }
  m = EQ.exec(term);
  if (m) return { key: m[1]!, operator: m[2] === "!=" ? "NotIn" : "In", values: [m[3]!] };
  m = EXISTS.exec(term);
  if (m) return { key: m[2]!, operator: m[1] ? "DoesNotExist" : "Exists" };
  throw new ChaosError("invalid", `cannot read "${term}" in the label selector "${whole}"`, {
    hint: 'write terms like app=web, tier!=db, "env in (a,b)", canary, !legacy, separated by commas',
  });
}

/** A structured selector for `labels` and/or a `selector` string (both must match). */
export function toLabelSelector(
  labels: Record<string, string> | undefined,
  selector: string | undefined,
): V1LabelSelector {
  const out: V1LabelSelector = {};
  if (labels && Object.keys(labels).length) out.matchLabels = { ...labels };
  if (selector) out.matchExpressions = parseLabelSelector(selector);
  return out;
}

/** Whether a structured selector (as a NetworkPolicy's podSelector) matches these labels; {} matches all. */
export function selectorMatches(
  selector: V1LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  const exact = Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    exact &&
    (selector?.matchExpressions ?? []).every((e) => {
      const has = Object.hasOwn(labels, e.key);
      const values = e.values ?? [];
      if (e.operator === "In") return has && values.includes(labels[e.key]!);
      if (e.operator === "NotIn") return !has || !values.includes(labels[e.key]!);
      if (e.operator === "Exists") return has;
      if (e.operator === "DoesNotExist") return !has;
      return false;
    })
  );
}
