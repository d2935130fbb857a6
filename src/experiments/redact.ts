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
/** A text cut short by the toolkit or a library: an ellipsis. */
const CUT = /…|\.\.\./g;
/** The shortest start of a secret recognised at a cut: two characters say nothing, three begin to. */
const CUT_MIN = 3;
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
  /** The forms of secrets long enough to be redacted everywhere: what a cut may show the start of. */
  private longForms: string[] = [];
  private longest = 0;

  /** True when no secret is known (the userinfo rule still applies). */
  get empty(): boolean {
    return this.patterns.size === 0;
  }

  /** Registers a secret value (an empty one needs no hiding). */
  addSecret(value: string): void {
    if (value === "" || this.secrets.has(value)) return;
    this.secrets.add(value);
    if (value.length >= MIN_EVERYWHERE) {
      this.addForms(value);
      for (const form of encodings(value)) if (form.length >= MIN_EVERYWHERE) this.longForms.push(form);
      this.longest = Math.max(this.longest, ...this.longForms.map((f) => f.length));
    } else this.addPattern(JSON.stringify(value));
  }

  /**
   * Registers a string built from secrets (`Bearer ${secrets.t}`): the whole value, the short secrets with
   * their surroundings in it, and the basic-authentication form of a URL's userinfo.
   */
  addBuilt(built: string, used: string[]): void {
    for (const secret of used) this.addSecret(secret);
    const short = used.filter((s) => s !== "" && s.length < MIN_EVERYWHERE);
    if (short.length && built.length >= MIN_EVERYWHERE) this.addForms(built);
    // The surroundings are taken from the value as built and as printed once its long secrets are
    // redacted (`***&c=zq`), so a short secret is recognised beside a long one in either form.
    let masked = built;
    for (const secret of used) if (secret.length >= MIN_EVERYWHERE) masked = masked.split(secret).join("***");
    for (const source of new Set([built, masked])) {
      for (const secret of short) {
        for (let i = source.indexOf(secret); i >= 0; i = source.indexOf(secret, i + 1)) {
          const left = source.slice(Math.max(0, i - CONTEXT), i);
          const right = source.slice(i + secret.length, i + secret.length + CONTEXT);
          if (left) this.addForms(left + secret);
          if (right) this.addForms(secret + right);
        }
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

  /**
   * `text` with the userinfo of URLs and every known form of every secret replaced by `***`. All the matches
   * are found in the text as given, and overlapping ones are replaced as one: a long secret replaced first
   * must not break the match of a short one written beside it (`k=LONG&c=zq`). A text cut short (`…` or
   * `...`) right after the start of a secret loses that start too.
   */
  text(text: string): string {
    const out = text.includes("://") ? text.replace(USERINFO, "$1***@") : text;
    const spans: [number, number][] = [];
    for (const p of this.sorted) {
      // A short secret registered alone is matched with its quotes, which stay.
      const quoted = p.startsWith('"') ? 1 : 0;
      for (let i = out.indexOf(p); i >= 0; i = out.indexOf(p, i + 1))
        spans.push([i + quoted, i + p.length - quoted]);
    }
    for (const cut of out.matchAll(CUT)) {
      const start = this.cutSecretStart(out, cut.index);
      if (start !== undefined) spans.push([start, cut.index]);
    }
    if (!spans.length) return out;
    spans.sort((a, b) => a[0] - b[0]);
    let result = "";
    let last = 0;
    let open: [number, number] | undefined;
    for (const span of spans) {
      if (open && span[0] <= open[1]) {
        open[1] = Math.max(open[1], span[1]);
        continue;
      }
      if (open) {
        result += `${out.slice(last, open[0])}***`;
        last = open[1];
      }
      open = [span[0], span[1]];
    }
    if (open) result += `${out.slice(last, open[0])}***`;
    return result + out.slice(open ? open[1] : last);
  }

  /**
   * Where a secret starts in the text just before `end` (an ellipsis): the longest tail of at least
   * CUT_MIN characters that begins one of the forms of a secret of MIN_EVERYWHERE characters or more.
   */
  private cutSecretStart(text: string, end: number): number | undefined {
    for (let n = Math.min(end, this.longest - 1); n >= CUT_MIN; n--) {
      const tail = text.slice(end - n, end);
      if (this.longForms.some((f) => f.length > n && f.startsWith(tail))) return end - n;
    }
    return undefined;
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

/**
 * `text` redacted by the process's redactor, then cut to `max` characters (code points) ending with `mark`:
 * redaction comes first, so a cut can never show the start of a secret, and a `***` is never cut in two.
 */
export function redactThenCut(text: string, max: number, mark = "…"): string {
  const safe = [...outputRedactor.text(text)];
  if (safe.length <= max) return safe.join("");
  let keep = Math.max(0, max - [...mark].length);
  // Do not end inside a redaction mark: cut before it.
  while (keep > 0 && safe[keep - 1] === "*" && safe[keep] === "*") keep--;
  return safe.slice(0, keep).join("") + mark;
}
