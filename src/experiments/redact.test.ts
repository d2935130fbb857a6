import { describe, expect, it } from "vitest";
import { outputRedactor, Redactor, redactThenCut } from "./redact.js";

describe("the redactor", () => {
  it("hides a two-character secret written last, beside a long one, raw and once the long one is hidden", () => {
    const r = new Redactor();
    r.addBuilt("http://h/?k=Fr3shS3cr3t&c=zq", ["Fr3shS3cr3t", "zq"]);
    expect(r.text("GET /?k=Fr3shS3cr3t&c=zq failed")).not.toMatch(/Fr3sh|zq/);
    expect(r.text("url: http://h/?k=***&c=zq")).not.toContain("zq");
    expect(r.text("k=Fr3shS3cr3t&c=zq")).toBe("k=***");
  });

  it("hides a secret holding a lone surrogate, raw and JSON-escaped", () => {
    const r = new Redactor();
    const secret = "ab\uD800cd";
    r.addSecret(secret);
    expect(r.text(`x ${secret} y`)).toBe("x *** y");
    expect(r.text(JSON.stringify({ v: secret }))).not.toContain("\\ud800cd");
  });

  it("hides the password of a URL whose user part holds malformed %-encoding, and its basic credential", () => {
    const r = new Redactor();
    const url = "http://us%zz%:p4ssw0rd-x@h/";
    r.addBuilt(url, ["p4ssw0rd-x"]);
    const basic = Buffer.from("us%zz%:p4ssw0rd-x").toString("base64");
    expect(r.text(`GET ${url}`)).toBe("GET http://***@h/");
    expect(r.text(`Authorization: Basic ${basic}`)).not.toContain(basic.slice(0, 12));
  });

  it("hides a secret used as an object key, and a value that is a short secret alone", () => {
    const r = new Redactor();
    r.addSecret("k3y-s3cret");
    r.addSecret("zq");
    const out = r.deep({ "k3y-s3cret": 1, nested: { "prefix-k3y-s3cret": ["zq", "zqx"] } });
    expect(JSON.stringify(out)).not.toContain("k3y-s3cret");
    expect(out).toEqual({ "***": 1, nested: { "prefix-***": ["***", "zqx"] } });
  });

  it("hides the start of a secret shown by a text cut at the display width", () => {
    const r = new Redactor();
    r.addSecret("Fr3shS3cr3t");
    expect(r.text('= {"url":"?q=1&s=Fr3sh...')).toBe('= {"url":"?q=1&s=***...');
    expect(r.text("= ?q=1&s=Fr3shS3…")).toBe("= ?q=1&s=***…");
    // An ordinary ellipsis keeps its text.
    expect(r.text("waiting for the target…")).toBe("waiting for the target…");
  });
});

describe("redactThenCut", () => {
  it("redacts before it cuts, and never cuts a redaction mark in two", () => {
    outputRedactor.addSecret("Cut-Secret-0123456789");
    const value = `{"a":"padding","s":"Cut-Secret-0123456789","t":"tail"}`;
    for (let max = 5; max < value.length; max++) {
      const shown = redactThenCut(value, max);
      expect([...shown].length).toBeLessThanOrEqual(max);
      expect(shown).not.toMatch(/Cut-|Cut…|Cu…/);
      expect(shown).not.toMatch(/(^|[^*])\*{1,2}…$/);
    }
    expect(redactThenCut(value, 200)).toBe(`{"a":"padding","s":"***","t":"tail"}`);
  });
});
