/**
 * Keeps secrets out of everything the toolkit writes: stdout, stderr, logs, journals, reports.
 *
 * Rule (see the README, "Secrets"):
 * - a secret of 4 characters or more is replaced by `***` wherever it appears, in every form the toolkit
 *   itself produces: raw, `encodeURIComponent`, `encodeURI`, form encoding, each component of the WHATWG URL
 *   serializer (userinfo, path, query, fragment), JSON-escaped (once and twice) and base64;
 * - a shorter secret (1 to 3 characters) would match all over ordinary text, so it is replaced only within
 *   the values built from it: each string an experiment built with it is redacted whole, and so is the
 *   secret together with the characters around it in that string (`user:ab`, `ab@host`, `=ab&`), in
 *   every form above; a value that is the secret alone is redacted where it appears quoted (`"ab"`);
 * - the userinfo of any URL (`scheme://user:password@`) is always removed;
 * - the base64 `user:password` of basic authentication is registered when a value is built.
 */
const MIN_EVERYWHERE = 4;
/** Characters of a built value kept around a short secret to recognise it. */
const CONTEXT = 6;
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>\\]*@/gi;

/** Every form in which `value` may be printed by the toolkit or the libraries it uses. */
export function encodings(value: string): string[] {
  const forms = new Set<string>([value]);
  const add = (f: () => string): void => {
    try {
      forms.add(f());
    } catch {
      // a lone surrogate cannot be URL-encoded: then that form cannot be produced either
    }
  };
  add(() => encodeURIComponent(value));
  add(() => encodeURI(value));
  add(() => new URLSearchParams([["k", value]]).toString().slice(2));
  for (const base of ["http://h/", "x:/"]) {
    add(() => Object.assign(new URL(base), { username: value }).username);
    add(() => Object.assign(new URL(base), { password: value }).password);
    add(() => Object.assign(new URL(base), { pathname: `/${value}` }).pathname.slice(1));
    add(() => Object.assign(new URL(base), { search: `?${value}` }).search.slice(1));
    add(() => Object.assign(new URL(base), { hash: `#${value}` }).hash.slice(1));
  }
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  forms.add(JSON.stringify(json).slice(1, -1));
  forms.add(Buffer.from(value).toString("base64").replace(/=+$/, ""));
  forms.add(Buffer.from(value).toString("base64url"));
  forms.delete("");
  return [...forms];
}

/** The secrets of a run and the values built from them, applied to every byte the toolkit writes. */
export class Redactor {
  private readonly secrets = new Set<string>();
  private readonly patterns = new Set<string>();
  private sorted: string[] = [];

  /** True when no secret is known (the userinfo rule still applies). */
  get empty(): boolean {
    return this.patterns.size === 0;
  }

  /** Registers a secret value (an empty one needs no hiding). */
  addSecret(value: string): void {
    if (value === "" || this.secrets.has(value)) return;
    this.secrets.add(value);
    if (value.length >= MIN_EVERYWHERE) this.addForms(value);
    else this.addPattern(JSON.stringify(value));
  }

  /**
   * Registers a string built from secrets (`Bearer ${secrets.t}`): the whole value, the short secrets with
   * their surroundings in it, and the basic-authentication form of a URL's userinfo.
   */
  addBuilt(built: string, used: string[]): void {
    for (const secret of used) this.addSecret(secret);
    const short = used.filter((s) => s !== "" && s.length < MIN_EVERYWHERE);
    if (short.length && built.length >= MIN_EVERYWHERE) this.addForms(built);
    for (const secret of short) {
      for (let i = built.indexOf(secret); i >= 0; i = built.indexOf(secret, i + 1)) {
        const left = built.slice(Math.max(0, i - CONTEXT), i);
        const right = built.slice(i + secret.length, i + secret.length + CONTEXT);
        if (left) this.addForms(left + secret);
        if (right) this.addForms(secret + right);
      }
    }
    const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]*)@/i.exec(built)?.[1];
    if (userinfo) {
      let decoded = userinfo;
      try {
        decoded = decodeURIComponent(userinfo);
      } catch {
        // keep it as written
      }
      this.addBasicAuth(decoded);
    }
  }

  /** Registers the `Basic` credential of `user:password`, as an HTTP client would send it. */
  addBasicAuth(userColonPassword: string): void {
    this.addForms(Buffer.from(userColonPassword).toString("base64"));
  }

  private addForms(value: string): void {
    for (const form of encodings(value)) this.addPattern(form);
  }

  private addPattern(pattern: string): void {
    if (this.patterns.has(pattern)) return;
    this.patterns.add(pattern);
    this.sorted = [...this.patterns].sort((a, b) => b.length - a.length);
  }

  /** `text` with the userinfo of URLs and every known form of every secret replaced by `***`. */
  text(text: string): string {
    let out = text.includes("://") ? text.replace(USERINFO, "$1***@") : text;
    for (const p of this.sorted)
      if (out.includes(p)) out = out.split(p).join(p.startsWith('"') ? '"***"' : "***");
    return out;
  }

  /** A deep copy of `value` with every string (and key) redacted; numbers and booleans are left alone. */
  deep<T>(value: T): T {
    if (typeof value === "string") return (this.secrets.has(value) ? "***" : this.text(value)) as T;
    if (Array.isArray(value)) return value.map((v) => this.deep(v)) as T;
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[this.text(k)] = this.deep(v);
      return out as T;
    }
    return value;
  }
}

/** The process's redactor: a run registers its secrets here, and the CLI passes all its output through it. */
export const outputRedactor = new Redactor();
