/**
 * The JSONPath of Chaos Toolkit's `jsonpath` tolerance (it uses the `jsonpath2` package), as far as its
 * experiments use it:
 *
 *   $  .name  ['name']  [0]  [-1]  .*  [*]  ..name     members, indices, wildcards, recursive descent
 *   [?(@.a)]  [?(@.a.b = "x")]  [?(@.n > 2 and @.m)]   filters: existence, = != < <= > >=, and, or, not
 *
 * As in jsonpath2, a filter tests the node it is applied to (`$.foo[?(@.baz)]` keeps `foo` itself when it
 * has a `baz`); write `$.foo.*[?(…)]` or `$.foo[*][?(…)]` to filter the members of `foo`. An expression
 * outside this subset is a validation error, never a silent mismatch.
 */
type Selector = (node: unknown, root: unknown) => unknown[];

export class CtkJsonPathError extends Error {
  constructor(
    readonly expression: string,
    readonly offset: number,
    what: string,
  ) {
    super(`JSON path ${JSON.stringify(expression)}: ${what} at offset ${offset}`);
  }
}

type Expr = (node: unknown, root: unknown) => boolean;
type Operand = (node: unknown, root: unknown) => unknown[];

const NAME = /[A-Za-z0-9_$-]/;

function children(node: unknown): unknown[] {
  if (Array.isArray(node)) return node;
  if (node !== null && typeof node === "object") return Object.values(node);
  return [];
}

function descendants(node: unknown): unknown[] {
  const out: unknown[] = [node];
  for (const c of children(node)) out.push(...descendants(c));
  return out;
}

function member(name: string): Selector {
  return (node) =>
    node !== null && typeof node === "object" && !Array.isArray(node) && Object.hasOwn(node, name)
      ? [(node as Record<string, unknown>)[name]]
      : [];
}

function index(i: number): Selector {
  return (node) => {
    if (!Array.isArray(node)) return [];
    const k = i < 0 ? node.length + i : i;
    return k >= 0 && k < node.length ? [node[k]] : [];
  };
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

class Parser {
  i = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new CtkJsonPathError(this.text, this.i, what);
  }

  ws(): void {
    while (this.text[this.i] === " ") this.i++;
  }

  eat(s: string): boolean {
    if (this.text.startsWith(s, this.i)) {
      this.i += s.length;
      return true;
    }
    return false;
  }

  name(): string {
    const start = this.i;
    while (this.i < this.text.length && NAME.test(this.text[this.i]!)) this.i++;
    if (this.i === start) this.fail("expected a member name");
    return this.text.slice(start, this.i);
  }

  quoted(): string {
    const q = this.text[this.i++]!;
    let s = "";
    while (this.i < this.text.length && this.text[this.i] !== q) {
      if (this.text[this.i] === "\\") this.i++;
      s += this.text[this.i++] ?? "";
    }
    if (!this.eat(q)) this.fail(`unterminated string (missing ${q})`);
    return s;
  }

  /** Steps after `$` or `@`, until something that is not a step. */
  steps(inFilter: boolean): Selector[] {
    const out: Selector[] = [];
    for (;;) {
      if (this.eat("..")) {
        const next = this.eat("*") ? (n: unknown) => children(n) : member(this.name());
        out.push((node) => descendants(node).flatMap((d) => next(d, d)));
      } else if (this.eat(".")) {
        if (this.eat("*")) out.push((node) => children(node));
        else out.push(member(this.name()));
      } else if (this.text[this.i] === "[") {
        this.i++;
        this.ws();
        const c = this.text[this.i];
        if (c === "*") {
          this.i++;
          out.push((node) => children(node));
        } else if (c === "'" || c === '"') out.push(member(this.quoted()));
        else if (c === "?") {
          this.i++;
          if (!this.eat("(")) this.fail("expected ( after ?");
          const test = this.or();
          this.ws();
          if (!this.eat(")")) this.fail("expected )");
          out.push((node, root) => (test(node, root) ? [node] : []));
        } else {
          const m = /^-?\d+/.exec(this.text.slice(this.i));
          if (!m) this.fail("expected an index, *, a quoted name or a filter");
          this.i += m![0].length;
          out.push(index(Number(m![0])));
        }
        this.ws();
        if (!this.eat("]")) this.fail("expected ]");
      } else return out;
      if (inFilter && this.i >= this.text.length) return out;
    }
  }

  path(): Selector {
    this.ws();
    if (!this.eat("$")) this.fail("must start with $");
    const steps = this.steps(false);
    this.ws();
    if (this.i < this.text.length) this.fail(`unexpected ${JSON.stringify(this.text[this.i])}`);
    return run(steps, "root");
  }

  or(): Expr {
    let left = this.and();
    for (;;) {
      this.ws();
      if (!this.eat("or ")) return left;
      const l = left;
      const r = this.and();
      left = (n, root) => l(n, root) || r(n, root);
    }
  }

  and(): Expr {
    let left = this.not();
    for (;;) {
      this.ws();
      if (!this.eat("and ")) return left;
      const l = left;
      const r = this.not();
      left = (n, root) => l(n, root) && r(n, root);
    }
  }

  not(): Expr {
    this.ws();
    if (this.eat("not ")) {
      const inner = this.not();
      return (n, root) => !inner(n, root);
    }
    if (this.eat("(")) {
      const inner = this.or();
      this.ws();
      if (!this.eat(")")) this.fail("expected )");
      return inner;
    }
    return this.comparison();
  }

  operand(): Operand {
    this.ws();
    const c = this.text[this.i];
    if (c === "@" || c === "$") {
      this.i++;
      const run = runFrom(this.steps(true), c === "@" ? "node" : "root");
      return run;
    }
    if (c === "'" || c === '"') {
      const s = this.quoted();
      return () => [s];
    }
    const m = /^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null)/.exec(this.text.slice(this.i));
    if (!m) this.fail("expected @, $, a string, a number, true, false or null");
    this.i += m![0].length;
    const v = JSON.parse(m![0]) as unknown;
    return () => [v];
  }

  comparison(): Expr {
    const left = this.operand();
    this.ws();
    const op = /^(!=|<=|>=|=|<|>)/.exec(this.text.slice(this.i))?.[1];
    if (!op) return (n, root) => left(n, root).length > 0;
    this.i += op.length;
    const right = this.operand();
    const holds = (a: unknown, b: unknown): boolean => {
      if (op === "=") return equal(a, b);
      if (op === "!=") return !equal(a, b);
      if (typeof a !== typeof b || (typeof a !== "number" && typeof a !== "string")) return false;
      const x = a as number | string;
      const y = b as number | string;
      return op === "<" ? x < y : op === "<=" ? x <= y : op === ">" ? x > y : x >= y;
    };
    return (n, root) => {
      const rs = right(n, root);
      return left(n, root).some((a) => rs.some((b) => holds(a, b)));
    };
  }
}

function runFrom(steps: Selector[], start: "node" | "root"): Operand {
  return (node, root) => {
    let current = [start === "node" ? node : root];
    for (const s of steps) current = current.flatMap((c) => s(c, root));
    return current;
  };
}

function run(steps: Selector[], _start: "root"): Selector {
  return (root) => runFrom(steps, "root")(root, root);
}

/**
 * Compiles a JSON path.
 * @throws CtkJsonPathError with the offset of the first character outside the supported subset.
 */
export function compileJsonPath(expression: string): (document: unknown) => unknown[] {
  const select = new Parser(expression).path();
  return (document) => select(document, document);
}
