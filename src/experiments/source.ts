import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, Parser, parseDocument } from "yaml";
import { ChaosError, type SourceLocation } from "./errors.js";

export type Path = (string | number)[];

/** Bounds on what a document may expand to through its aliases (a "billion laughs" file stays small). */
export const EXPANSION_LIMITS = { nodes: 1_000_000, bytes: 16 * 1024 * 1024 };

/**
 * A YAML file parsed with source positions, so that any problem found in the data can point at the line
 * and column a user has to change.
 */
export class SourceFile {
  readonly data: unknown;
  private readonly lines = new LineCounter();
  private readonly doc;

  private readonly structural: ChaosError[] = [];

  readonly text: string;

  /** Never throws: syntax, duplicate keys and alias problems are returned by `syntaxErrors`. */
  constructor(
    readonly file: string,
    text: string,
  ) {
    // A file saved with old Mac line ends (CR alone) is read line by line like any other; the length and so
    // every offset stay the same.
    this.text = text.replace(/\r(?!\n)/g, "\n");
    text = this.text;
    // Duplicate keys are found below in linear time; the parser's own check is quadratic in the keys.
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: false });
    let data: unknown;
    try {
      // A control character other than tab and line ends is not YAML (its spec's c-printable); a NUL or an
      // ESC inside a value would reach a process's arguments or a terminal as written.
      const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(this.text);
      if (control) {
        const code = control[0].charCodeAt(0).toString(16).padStart(4, "0");
        this.structural.push(
          this.at(
            control.index,
            `the file holds the control character U+${code.toUpperCase()}`,
            "write it as an escape inside a double-quoted string (e.g. \\u0000), or remove it",
          ),
        );
      } else if (this.doc.errors.length === 0) this.checkStructure();
      if (!this.doc.errors.length && !this.structural.length) data = this.doc.toJS({ maxAliasCount: -1 });
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      this.structural.push(this.at(0, "the document is nested too deeply", "flatten the data"));
    }
    this.data = data;
  }

  private at(offset: number, message: string, hint: string): ChaosError {
    const pos = this.lines.linePos(offset);
    return new ChaosError("invalid", message, {
      location: { file: this.file, line: pos.line, col: pos.col },
      hint,
    });
  }

  /**
   * One walk over the document: duplicate keys, aliases to no anchor or to a node that contains them, and the
   * size the data would have once every alias is expanded (nodes and bytes), without expanding anything.
   */
  private checkStructure(): void {
    const sizes = new Map<unknown, { nodes: number; bytes: number }>();
    const open = new Set<unknown>();
    const running = { nodes: 0, bytes: 0 };
    const anchors = new Map<string, Node>();
    const stop = (e: ChaosError) => {
      this.structural.push(e);
      return { nodes: Number.POSITIVE_INFINITY, bytes: Number.POSITIVE_INFINITY };
    };
    const size = (node: unknown): { nodes: number; bytes: number } => {
      if (this.structural.length) return { nodes: 0, bytes: 0 };
      if (node === null || node === undefined) return { nodes: 1, bytes: 4 };
      const known = sizes.get(node);
      if (known) return known;
      const n = node as Node & { anchor?: string };
      if (n.anchor) anchors.set(n.anchor, n);
      let total = { nodes: 1, bytes: 0 };
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        const offset = node.range?.[0] ?? 0;
        if (!target) {
          return stop(
            this.at(
              offset,
              `YAML alias *${node.source} has no anchor &${node.source} before it`,
              "define the anchor first, or remove the alias",
            ),
          );
        }
        if (open.has(target)) {
          return stop(
            this.at(
              offset,
              `YAML alias *${node.source} is inside the node it refers to`,
              "an alias cannot contain itself",
            ),
          );
        }
        total = size(target);
        running.nodes += total.nodes;
        running.bytes += total.bytes;
        if (running.nodes > EXPANSION_LIMITS.nodes || running.bytes > EXPANSION_LIMITS.bytes) {
          return stop(
            this.at(
              offset,
              `YAML aliases expand this document beyond ${EXPANSION_LIMITS.nodes} values or ${EXPANSION_LIMITS.bytes / 1024 / 1024} MiB`,
              "write the data out, or use fewer aliases",
            ),
          );
        }
      } else if (isScalar(node)) {
        total = { nodes: 1, bytes: String(node.value).length + 2 };
        running.nodes += 1;
        running.bytes += total.bytes;
      } else if (isMap(node) || isSeq(node)) {
        open.add(node);
        const keys = new Set<string>();
        for (const item of node.items) {
          if (isPair(item)) {
            if (isScalar(item.key)) {
              const k = String(item.key.value);
              if (keys.has(k)) {
                open.delete(node);
                return stop(
                  this.at(
                    item.key.range?.[0] ?? 0,
                    `duplicate key "${k}"`,
                    "each key may appear once in a mapping",
                  ),
                );
              }
              keys.add(k);
              if (k === "__proto__") {
                open.delete(node);
                return stop(
                  this.at(
                    item.key.range?.[0] ?? 0,
                    'the key "__proto__" is not allowed',
                    "no setting is named __proto__; rename or remove the key",
                  ),
                );
              }
            }
            const k = size(item.key);
            const v = size(item.value);
            total = { nodes: total.nodes + k.nodes + v.nodes, bytes: total.bytes + k.bytes + v.bytes };
          } else {
            const v = size(item);
            total = { nodes: total.nodes + v.nodes, bytes: total.bytes + v.bytes };
          }
          if (this.structural.length) break;
        }
        open.delete(node);
      }
      sizes.set(node, total);
      return total;
    };
    size(this.doc.contents);
  }

  /** YAML syntax problems, each with its position. */
  syntaxErrors(): ChaosError[] {
    if (this.structural.length) return this.structural;
    return this.doc.errors.map((e) => {
      const pos = this.lines.linePos(
        e.code === "MISSING_CHAR" ? (this.openingQuote(e.pos[0]) ?? e.pos[0]) : e.pos[0],
      );
      const message = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
      return new ChaosError("invalid", `YAML syntax error: ${message}`, {
        location: { file: this.file, line: pos.line, col: pos.col },
        hint: "check indentation, quotes and colons on this line",
      });
    });
  }

  /**
   * The offset of the quote that opens a string running up to `end` without a closing quote: the yaml
   * parser reports the missing quote where the file ends, far from the line a user has to fix.
   */
  private openingQuote(end: number): number | undefined {
    let found: number | undefined;
    const walk = (t: unknown): void => {
      if (t === null || typeof t !== "object") return;
      if (Array.isArray(t)) {
        for (const x of t) walk(x);
        return;
      }
      const tok = t as { type?: string; offset?: number; source?: string };
      if (
        (tok.type === "double-quoted-scalar" || tok.type === "single-quoted-scalar") &&
        tok.offset !== undefined &&
        tok.source !== undefined &&
        tok.offset < end &&
        tok.offset + tok.source.length >= end
      )
        found = tok.offset;
      for (const v of Object.values(t)) if (v && typeof v === "object") walk(v);
    };
    for (const token of new Parser().parse(this.text)) walk(token);
    return found;
  }

  /** Position of the value at `path`, or of its key when `key` is set; falls back to the nearest parent. */
  locate(path: Path, opts: { key?: boolean; offset?: number } = {}): SourceLocation {
    let node: unknown = this.doc.contents;
    let keyNode: unknown;
    let best: unknown = node;
    for (const seg of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
        );
        if (!pair) break;
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === "number") {
        node = node.items[seg];
      } else {
        break;
      }
      if (!node) break;
      best = opts.key && keyNode ? keyNode : node;
    }
    const range = (best as Node | undefined)?.range;
    let start = range ? range[0] : 0;
    if (opts.offset !== undefined && isScalar(best)) {
      if (best.type === "BLOCK_LITERAL" || best.type === "BLOCK_FOLDED") {
        const inBlock = this.locateInBlock(start, opts.offset);
        if (inBlock) return inBlock;
      }
      const quoted = best.type === "QUOTE_DOUBLE" || best.type === "QUOTE_SINGLE";
      start += opts.offset + (quoted ? 1 : 0);
    }
    const pos = this.lines.linePos(start);
    return { file: this.file, line: pos.line, col: pos.col };
  }

  /**
   * Position of character `offset` of a block scalar's value (`|` or `>`) whose header starts at `start`:
   * the value's lines are the source lines below the header, less their indentation (folding turns each
   * line break into one space, so offsets line up either way).
   */
  private locateInBlock(start: number, offset: number): SourceLocation | undefined {
    const lines = this.text.split("\n");
    const first = this.lines.linePos(start).line; // 1-based header line = 0-based index of the first value line
    const indent =
      lines
        .slice(first)
        .find((l) => l.trim() !== "")
        ?.search(/\S/) ?? 0;
    let remaining = offset;
    for (let i = first; i < lines.length; i++) {
      const content = (lines[i] ?? "").slice(indent);
      if (remaining <= content.length) return { file: this.file, line: i + 1, col: indent + remaining + 1 };
      remaining -= content.length + 1;
    }
    return undefined;
  }
}
