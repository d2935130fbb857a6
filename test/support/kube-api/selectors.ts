/**
 * Label and field selectors as the API server reads them (k8s.io/apimachinery/pkg/labels and fields):
 * label terms `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`; field terms `f=v`, `f==v`,
 * `f!=v` over the fields a resource supports. A term that cannot be read is a 400, as on a real cluster.
 */

export class SelectorError extends Error {}

type Labels = Record<string, string>;
type LabelTest = (labels: Labels) => boolean;

function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim() || out.length) out.push(cur.trim());
  return out;
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, term: string): string {
  if (!KEY.test(key))
    throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${term}"`);
  return key;
}

function checkValue(value: string, term: string): string {
  if (!VALUE.test(value))
    throw new SelectorError(`unable to parse requirement: invalid label value "${value}" in "${term}"`);
  return value;
}

/** @throws SelectorError for a term the API server would reject. */
export function parseLabelSelector(text: string | undefined): LabelTest {
  if (!text?.trim()) return () => true;
  const tests = splitTerms(text).map((term): LabelTest => {
    const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    if (set) {
      const key = checkKey(set[1]!, term);
      const values = new Set(set[3]!.split(",").map((v) => checkValue(v.trim(), term)));
      return set[2] === "in"
        ? (l) => key in l && values.has(l[key]!)
        : (l) => !(key in l) || !values.has(l[key]!);
    }
    const eq = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (eq) {
      const key = checkKey(eq[1]!, term);
      const value = checkValue(eq[3]!, term);
      return eq[2] === "!=" ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    const ex = /^(!?)(\S+)$/.exec(term);
    if (ex) {
      const key = checkKey(ex[2]!, term);
      return ex[1] ? (l) => !(key in l) : (l) => key in l;
    }
    throw new SelectorError(`unable to parse requirement: "${term}"`);
  });
  return (labels) => tests.every((t) => t(labels));
}

/** The fields a pod list may be filtered by, as the API server's pod field-label conversion allows. */
// biome-ignore lint/suspicious/noExplicitAny: a pod as JSON
export const POD_FIELDS: Record<string, (pod: any) => string> = {
  "metadata.name": (p) => p.metadata.name,
  "metadata.namespace": (p) => p.metadata.namespace,
  "spec.nodeName": (p) => p.spec.nodeName ?? "",
  "spec.restartPolicy": (p) => p.spec.restartPolicy ?? "",
  "spec.schedulerName": (p) => p.spec.schedulerName ?? "",
  "spec.serviceAccountName": (p) => p.spec.serviceAccountName ?? "",
  "status.phase": (p) => p.status.phase ?? "",
  "status.podIP": (p) => p.status.podIP ?? "",
  "status.nominatedNodeName": (p) => p.status.nominatedNodeName ?? "",
};

/** The fields a core/v1 Event list selects by (pkg/registry/core/event/strategy.go), as kubectl describe does. */
// biome-ignore lint/suspicious/noExplicitAny: objects as JSON
export const EVENT_FIELDS: Record<string, (e: any) => string> = {
  "metadata.name": (e) => e.metadata.name,
  "metadata.namespace": (e) => e.metadata.namespace,
  "involvedObject.kind": (e) => e.involvedObject?.kind ?? "",
  "involvedObject.namespace": (e) => e.involvedObject?.namespace ?? "",
  "involvedObject.name": (e) => e.involvedObject?.name ?? "",
  "involvedObject.uid": (e) => e.involvedObject?.uid ?? "",
  "involvedObject.apiVersion": (e) => e.involvedObject?.apiVersion ?? "",
  "involvedObject.resourceVersion": (e) => e.involvedObject?.resourceVersion ?? "",
  "involvedObject.fieldPath": (e) => e.involvedObject?.fieldPath ?? "",
  reason: (e) => e.reason ?? "",
  reportingComponent: (e) => e.reportingComponent ?? "",
  source: (e) => e.source?.component || e.reportingComponent || "",
  type: (e) => e.type ?? "",
};

/** @throws SelectorError "field label not supported" for a field the resource does not index. */
// biome-ignore lint/suspicious/noExplicitAny: objects as JSON
export function parseFieldSelector(text: string | undefined, fields: Record<string, (o: any) => string>) {
  if (!text?.trim()) return () => true;
  const tests = text.split(",").map((term) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!m) throw new SelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    const get = fields[m[1]!];
    if (!get) throw new SelectorError(`field label not supported: ${m[1]}`);
    const value = m[3]!;
    return m[2] === "!=" ? (o: unknown) => get(o) !== value : (o: unknown) => get(o) === value;
  });
  return (o: unknown) => tests.every((t) => t(o));
}

/** A LabelSelector object (`matchLabels` and `matchExpressions`) applied to labels; an empty one matches all. */
export function matchesLabels(
  selector: {
    matchLabels?: Labels;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  } = {},
  labels: Labels,
): boolean {
  const exact = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    exact &&
    (selector.matchExpressions ?? []).every((e) => {
      const has = Object.hasOwn(labels, e.key);
      switch (e.operator) {
        case "In":
          return has && (e.values ?? []).includes(labels[e.key]!);
        case "NotIn":
          return !has || !(e.values ?? []).includes(labels[e.key]!);
        case "Exists":
          return has;
        case "DoesNotExist":
          return !has;
        default:
          return false;
      }
    })
  );
}
