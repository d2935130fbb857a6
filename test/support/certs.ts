import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Test certificates made with openssl: a certificate authority and leaf certificates it signs, written as
 * PEM files into a folder the test made. Keys are P-256 by default (quick to make) or RSA 2048.
 */

/** Whether openssl runs here (in CI it is installed: a suite needing it fails there rather than skips). */
export const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

export type KeyType = "ec" | "rsa";

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
}

function newKey(type: KeyType): string[] {
  return type === "rsa"
    ? ["-newkey", "rsa:2048", "-nodes"]
    : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
}

/** A self-signed CA valid for one day: `ca.pem` and `ca-key.pem` in `dir`. */
export function makeCa(dir: string, { cn, key = "ec" }: { cn: string; key?: KeyType }): void {
  openssl(
    dir,
    "req",
    "-x509",
    ...newKey(key),
    "-days",
    "1",
    "-subj",
    `/CN=${cn}`,
    "-keyout",
    "ca-key.pem",
    "-out",
    "ca.pem",
  );
}

/**
 * A leaf certificate signed by the CA of `makeCa` in the same `dir`, valid for one day: `NAME.pem` and
 * `NAME-key.pem`, with the given X.509 v3 extensions (one `key=value` a line), e.g.
 * `["subjectAltName=IP:127.0.0.1", "extendedKeyUsage=serverAuth"]`.
 */
export function issueLeaf(
  dir: string,
  name: string,
  { extensions, cn = name, key = "ec" }: { extensions: string[]; cn?: string; key?: KeyType },
): void {
  writeFileSync(join(dir, `${name}.ext`), `${extensions.join("\n")}\n`);
  openssl(
    dir,
    "req",
    ...newKey(key),
    "-subj",
    `/CN=${cn}`,
    "-keyout",
    `${name}-key.pem`,
    "-out",
    `${name}.csr`,
  );
  openssl(
    dir,
    ...["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial"],
    ...["-days", "1", "-extfile", `${name}.ext`, "-out", `${name}.pem`],
  );
}
