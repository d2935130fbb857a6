import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import tls from "node:tls";
import { ApiError } from "./api-error.js";

/**
 * A proxy's TLS termination as written in its definition (`tls` beside `listen` and `upstream`): file
 * paths only, never keys inline. Absent: TLS passes through the proxy untouched, as bytes.
 */
export interface TlsSettings {
  /** PEM certificate (chain) presented to clients. */
  cert: string;
  /** PEM private key of `cert`, unencrypted. */
  key: string;
  /** True (default): the proxy connects upstream over TLS; false: plain TCP. */
  upstream_tls: boolean;
  /** PEM CA bundle the upstream's certificate is verified against (default: Node's bundled CAs). */
  ca?: string;
  /** True: the upstream's certificate is not verified. */
  insecure: boolean;
  /** Name sent as SNI and checked in the upstream's certificate (default: the upstream's host). */
  server_name?: string;
}

/** A bad `tls` in a proxy definition: the API answers it with 400, the CLI exits 2. */
export class TlsConfigError extends ApiError {
  constructor(message: string) {
    super(message, 400);
    this.name = "TlsConfigError";
  }
}

/** What a terminating proxy's connections need, loaded and checked once when the proxy is created. */
export interface TlsTermination {
  settings: TlsSettings;
  /** Terminates the client's TLS: the certificate and key. */
  context: tls.SecureContext;
  /** How to connect upstream over TLS; undefined: plain TCP. */
  upstream?: { ca?: Buffer; rejectUnauthorized: boolean; servername?: string };
}

const FIELDS = new Set(["cert", "key", "upstream_tls", "ca", "insecure", "server_name"]);

/**
 * Reads the `tls` member of a proxy definition (API body or config file).
 * @returns undefined when it is absent or null.
 * @throws TlsConfigError naming the field for anything else that is not a complete, consistent setting.
 */
export function readTlsInput(value: unknown, at: string): TlsSettings | undefined {
  if (value === undefined || value === null) return undefined;
  const bad = (what: string) => new TlsConfigError(`proxy ${at}: tls${what}`);
  if (typeof value !== "object" || Array.isArray(value))
    throw bad(" must be an object with cert and key (file paths)");
  const input = value as Record<string, unknown>;
  for (const name of Object.keys(input))
    if (!FIELDS.has(name)) throw bad(`.${name} is not a setting (known: ${[...FIELDS].join(", ")})`);
  const path = (name: string, required: boolean): string | undefined => {
    const v = input[name];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || v === "") throw bad(`.${name} must be a file path`);
    return v;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const v = input[name];
    if (v === undefined) return fallback;
    if (typeof v !== "boolean") throw bad(`.${name} must be true or false`);
    return v;
  };
  const settings: TlsSettings = {
    cert: path("cert", true)!,
    key: path("key", true)!,
    upstream_tls: flag("upstream_tls", true),
    insecure: flag("insecure", false),
  };
  const ca = path("ca", false);
  if (ca !== undefined) settings.ca = ca;
  const name = input.server_name;
  if (name !== undefined) {
    if (typeof name !== "string" || name === "") throw bad(".server_name must be a host name");
    settings.server_name = name;
  }
  if (!settings.upstream_tls && (ca !== undefined || settings.insecure || name !== undefined))
    throw bad(": ca, insecure and server_name apply only to a TLS upstream (upstream_tls is false)");
  if (settings.insecure && ca !== undefined)
    throw bad(": give either ca (verify the upstream against it) or insecure (do not verify), not both");
  return settings;
}

async function readPem(proxy: string, field: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : code === "EISDIR"
            ? "it is a directory"
            : (code ?? "unreadable");
    throw new TlsConfigError(`proxy ${proxy}: tls.${field} ${file} cannot be read (${reason})`);
  }
}

/**
 * Loads and checks a proxy's certificate, key and CA. Error messages name files and fields, never their
 * contents.
 * @throws TlsConfigError when a file cannot be read, is not PEM of the right kind, or the key does not
 *         belong to the certificate.
 */
export async function loadTls(proxy: string, settings: TlsSettings): Promise<TlsTermination> {
  const fail = (message: string) => new TlsConfigError(`proxy ${proxy}: ${message}`);
  const cert = await readPem(proxy, "cert", settings.cert);
  const key = await readPem(proxy, "key", settings.key);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw fail(`tls.cert ${settings.cert} is not a PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey({ key, format: "pem" });
  } catch (err) {
    const encrypted = (err as NodeJS.ErrnoException).code === "ERR_MISSING_PASSPHRASE";
    throw fail(
      `tls.key ${settings.key} is not ${encrypted ? "an unencrypted" : "a PEM"} private key${encrypted ? " (it needs a passphrase)" : ""}`,
    );
  }
  if (!certificate.checkPrivateKey(privateKey))
    throw fail(`tls.key ${settings.key} does not match the certificate in tls.cert ${settings.cert}`);
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({ cert, key });
  } catch (err) {
    throw fail(`tls.cert and tls.key cannot be used together: ${(err as Error).message}`);
  }
  const termination: TlsTermination = { settings, context };
  if (settings.upstream_tls) {
    const ca = settings.ca === undefined ? undefined : await readPem(proxy, "ca", settings.ca);
    if (ca !== undefined) {
      try {
        new X509Certificate(ca);
      } catch {
        throw fail(`tls.ca ${settings.ca} is not a PEM certificate`);
      }
    }
    termination.upstream = { rejectUnauthorized: !settings.insecure };
    if (ca !== undefined) termination.upstream.ca = ca;
    if (settings.server_name !== undefined) termination.upstream.servername = settings.server_name;
  }
  return termination;
}

/** The same settings, written the same way (a populate entry that changes none of them keeps its proxy). */
export function sameTls(a: TlsSettings | undefined, b: TlsSettings | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
