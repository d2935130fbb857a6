import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultRegistry } from "../../src/agents/index.js";
import { formatDuration, MAX_DURATION_MS, parseDuration } from "../../src/experiments/duration.js";
import { ChaosError } from "../../src/experiments/errors.js";
import {
  bindSecrets,
  type InterpolationProblem,
  interpolate,
  SecretTemplate,
  withReferences,
} from "../../src/experiments/interpolate.js";
import { parseExperiment } from "../../src/experiments/load.js";
import { Redactor } from "../../src/experiments/redact.js";
import { parseTolerance, ToleranceError } from "../../src/experiments/tolerance.js";
import { secretForms } from "../support/secret-forms.js";

const registry = defaultRegistry();
const RUNS = { numRuns: 300 };

/** Runs `f` and returns what it threw, or undefined. */
function thrown(f: () => unknown): unknown {
  try {
    f();
    return undefined;
  } catch (err) {
    return err;
  }
}

/** Text that is YAML-ish: keys, colons, dashes, brackets, quotes, references, anchors, aliases. */
const yamlish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        "version: 1\n",
        "title: t\n",
        "method:\n",
        "  - pause: 1s\n",
        "  - action: process.kill\n",
        "    target: { pid: 1 }\n",
        "steady-state:\n",
        "  probes:\n",
        "    - http: { url: http://127.0.0.1:9 }\n",
        "      tolerance: ",
        "&a ",
        "*a",
        "${configuration.x}",
        "${secrets.s}",
        "${env:HOME}",
        "[",
        "]",
        "{",
        "}",
        '"',
        "'",
        ": ",
        "- ",
        "\t",
        "\n",
        "  ",
        "#",
        "!!binary ",
        "|\n",
        "---\n",
      ),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(""));

describe("the loader, on any input", () => {
  it("returns an experiment or throws located ChaosErrors, never anything else", () => {
    fc.assert(
      fc.property(fc.oneof(yamlish, fc.string({ maxLength: 200 })), (text) => {
        const err = thrown(() => parseExperiment("p.yaml", text, { registry, env: {} }));
        if (err === undefined) return;
        expect(err).toBeInstanceOf(ChaosError);
        for (const e of (err as { errors?: ChaosError[] }).errors ?? [err as ChaosError]) {
          expect(e).toBeInstanceOf(ChaosError);
          expect(e.location?.line).toBeGreaterThanOrEqual(1);
        }
      }),
      RUNS,
    );
  });
});

describe("durations", () => {
  const kinds = fc.constantFrom("length" as const, "timeout" as const, "interval" as const);

  it("parse to a bounded number of milliseconds, or throw a ChaosError with a hint", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.double(),
          fc
            .tuple(
              fc.double({ min: 0, noNaN: true }),
              fc.constantFrom("us", "µs", "ms", "s", "m", "h", "d", ""),
            )
            .map(([n, u]) => `${n}${u}`),
          fc.tuple(fc.nat(), fc.constantFrom("us", "ms", "s", "m", "h")).map(([n, u]) => `${n}${u}`),
        ),
        kinds,
        (value, kind) => {
          const err = thrown(() => parseDuration(value, kind));
          if (err) {
            expect(err).toBeInstanceOf(ChaosError);
            expect((err as ChaosError).hint).toBeTruthy();
            return;
          }
          const ms = parseDuration(value, kind);
          expect(typeof value).toBe("string");
          expect(Number.isFinite(ms)).toBe(true);
          expect(ms).toBeLessThanOrEqual(MAX_DURATION_MS);
          expect(ms).toBeGreaterThanOrEqual(kind === "length" ? 0 : 1);
        },
      ),
      RUNS,
    );
  });

  it("never accept a bare number, and say how to write it with a unit", () => {
    fc.assert(
      fc.property(fc.double(), kinds, (n, kind) => {
        const err = thrown(() => parseDuration(n, kind)) as ChaosError;
        expect(err.message).toContain("has no unit");
        expect(err.hint).toMatch(/write .*s or .*ms/);
      }),
      RUNS,
    );
  });

  it("read back what formatDuration writes, close to the millisecond", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS }), (ms) => {
        const text = formatDuration(ms).replace(
          /^(\d+)m(\d+)s$/,
          (_, m: string, s: string) => `${Number(m) * 60 + Number(s)}s`,
        );
        expect(Math.abs(parseDuration(text) - ms)).toBeLessThanOrEqual(ms < 10_000 ? 5 : 500);
      }),
      RUNS,
    );
  });
});

describe("tolerances", () => {
  it("parse or throw a ToleranceError, and a parsed one judges any value without throwing", () => {
    const value = fc.oneof(fc.double(), fc.string({ maxLength: 10 }), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 12 }),
          fc
            .tuple(fc.constantFrom("<", ">", "<=", ">=", "==", "!=", "=>", "~"), fc.string({ maxLength: 6 }))
            .map(([op, rhs]) => `${op} ${rhs}`),
          fc.array(fc.double(), { maxLength: 3 }),
          fc.dictionary(
            fc.constantFrom("status", "latency", "value", "regex", "range", "empty", "nan"),
            value,
          ),
          value,
        ),
        value,
        (tolerance, measured) => {
          let t: ReturnType<typeof parseTolerance>;
          try {
            t = parseTolerance(tolerance);
          } catch (err) {
            expect(err).toBeInstanceOf(ToleranceError);
            return;
          }
          const j = t.judge({ value: measured, fields: { status: 200, latency: 12 } });
          expect(typeof j.ok).toBe("boolean");
          expect(typeof j.reason).toBe("string");
        },
      ),
      RUNS,
    );
  });
});

describe("interpolation", () => {
  const REFS = ["${env:V}", "${secrets.s}", "${configuration.c}"];
  const envValue = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("${secrets.s}", "${env:OTHER}", "${configuration.c}", "$${x}", "${", "}"),
  );
  const template = fc
    .array(
      fc.oneof(
        fc.string({ maxLength: 6 }).filter((s) => !s.includes("${")),
        fc.constantFrom(...REFS),
      ),
      {
        maxLength: 5,
      },
    )
    .map((p) => p.join(""))
    .filter((t) => !/\$\{[^}]*$/.test(t) && !/\$\$\{/.test(t));

  it("is done once: a resolved value is data, never expanded again, and binding is idempotent", () => {
    fc.assert(
      fc.property(template, envValue, fc.string({ minLength: 1, maxLength: 8 }), (text, v, secret) => {
        const scope = {
          env: { V: v, OTHER: "other" },
          configuration: { c: "conf" },
          secretNames: new Set(["s"]),
        };
        const problems: InterpolationProblem[] = [];
        const once = interpolate({ a: text }, scope, problems) as { a: unknown };
        const redactor = new Redactor();
        const bound = bindSecrets(once, { s: secret }, redactor) as { a: unknown };
        // Binding again changes nothing: what was built is data.
        expect(bindSecrets(bound, { s: "another secret" }, redactor)).toEqual(bound);
        if (problems.length > 0) return; // an empty ${env:V} without default
        // Each reference was replaced once, by its value as written, whatever references that value holds.
        const expected = text
          .split(/(\$\{env:V\}|\$\{secrets\.s\}|\$\{configuration\.c\})/)
          .map((part) =>
            part === REFS[0] ? v : part === REFS[1] ? secret : part === REFS[2] ? "conf" : part,
          )
          .join("");
        expect(bound.a).toBe(expected);
        // What validation sees keeps the secret as a reference.
        if (text.includes(REFS[1]!)) {
          expect(once.a).toBeInstanceOf(SecretTemplate);
          expect(withReferences(once)).toEqual({ a: (once.a as SecretTemplate).text });
        }
      }),
      RUNS,
    );
  });

  /** Any code point, lone surrogates included: secrets and the text around them are not ASCII. */
  const anyText = (max: number, min = 0) => fc.string({ unit: "binary", minLength: min, maxLength: max });

  it("hides every form of a registered secret from any text that contains it", () => {
    fc.assert(
      fc.property(anyText(12, 4), anyText(10), anyText(10), (secret, before, after) => {
        const r = new Redactor();
        r.addSecret(secret);
        // The forms come from the test's own list, not from the redactor's.
        for (const form of secretForms(secret).filter((f) => f.length >= 4))
          expect(r.text(`${before}${form}${after}`)).not.toContain(form);
      }),
      RUNS,
    );
  });

  it("hides a short secret written beside a long one in a value built from both, in any form", () => {
    fc.assert(
      fc.property(anyText(12, 4), anyText(3, 1), anyText(4), (long, short, between) => {
        // Short is counted in UTF-16 units, as JavaScript strings count.
        fc.pre(short.length < 4 && long.length >= 4 && !long.includes(short) && !between.includes(short));
        const r = new Redactor();
        const built = `?k=${long}&${between}c=${short}`;
        r.addBuilt(built, [long, short]);
        for (const form of secretForms(built).filter((f) => f.length >= 4))
          expect(r.text(`x ${form} y`)).not.toContain(form);
        // As printed once the long secret is redacted: the short one goes too.
        expect(r.text(`?k=***&${between}c=${short}`)).not.toContain(`c=${short}`);
      }),
      RUNS,
    );
  });

  it("never shows the start of a secret where a value is cut", () => {
    fc.assert(
      fc.property(anyText(16, 6), anyText(10), fc.integer({ min: 3, max: 5 }), (secret, before, keep) => {
        const r = new Redactor();
        r.addSecret(secret);
        const shown = [...secret].slice(0, keep).join("");
        fc.pre(shown.length >= 3);
        expect(r.text(`${before}${shown}…`)).not.toContain(`${shown}…`);
        expect(r.text(`${before}${shown}...`)).not.toContain(`${shown}...`);
      }),
      RUNS,
    );
  });
});
