/** Header names whose values are credentials even when the experiment does not mark them as secrets. */
const SENSITIVE_HEADER = /authorization|cookie|api[-_]?key|token|secret|password|session|auth/i;

/** Shorter values are not scrubbed: replacing "1" or "ok" everywhere would mangle the text, not protect it. */
const MIN_SCRUB_LENGTH = 3;

/** True when a header's value must be treated as a credential by name alone. */
export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADER.test(name);
}

/**
 * Replaces every occurrence of each value with `***`, longest first so that a value containing another is
 * removed whole.
 */
export function scrub(text: string, values: Iterable<string>): string {
  const sorted = [...new Set(values)]
    .filter((v) => v.length >= MIN_SCRUB_LENGTH)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const value of sorted) out = out.split(value).join("***");
  return out;
}

/** The URL as it may be shown to humans: user and password removed. */
export function displayUrl(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  return copy.href;
}
