import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, Parser, parseDocument } from "yaml";
import { ChaosError, type SourceLocation } from "./errors.js";

export type Path = (string | number)[];

/**
 * A YAML file parsed with source positions, so that any problem found in the data can point at the line
 * and column a user has to change.
 */
export class SourceFile {
  readonly data: unknown;
  private readonly lines = new LineCounter();
  private readonly doc;

  /** @throws ValidationErrors-ready list via `syntaxErrors` — never throws itself. */
  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    this.data = this.doc.errors.length ? undefined : this.doc.toJS({ maxAliasCount: 100 });
  }

  /** YAML syntax problems, each with its position. */
  syntaxErrors(): ChaosError[] {
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
