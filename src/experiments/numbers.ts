/**
 * Numbers as a person reads them: 4 significant digits, no trailing zeros, integers as they are. Journals
 * keep the raw values; everything shown (verdict reasons, live block, tables, reports) goes through here.
 */

/** `0.176578` reads `0.1766`, `12.50` reads `12.5`, `1500` stays `1500`; NaN and infinities by name. */
export function formatDecimal(n: number, digits = 4): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(digits)));
}

/**
 * `n` rounded as `formatDecimal` does, with more digits when rounding would change what `test` says of it:
 * a reason never reads `0.3 is not < 0.3` or `0.3 ≠ 0.3` because rounding met the bound the value missed.
 */
export function formatFaithful(n: number, test: (x: number) => boolean): string {
  const truth = test(n);
  for (let digits = 4; digits <= 17; digits++) {
    const text = formatDecimal(n, digits);
    if (!Number.isFinite(n) || Number.isInteger(n) || test(Number(text)) === truth) return text;
  }
  return String(n);
}
