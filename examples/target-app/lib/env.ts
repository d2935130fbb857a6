/**
 * Reads a TCP port from the environment.
 * @throws Error when the variable is missing or not a port number.
 */
export function envPort(name: string, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  const port = Number(raw);
  if (raw === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(
      `${name} must be a TCP port (1-65535), got ${raw === undefined ? "nothing" : `"${raw}"`}`,
    );
  }
  return port;
}

/**
 * Reads a URL from the environment.
 * @throws Error when the variable is missing or not an http URL.
 */
export function envUrl(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = env[name];
  if (raw === undefined || !/^http:\/\/[^/]+/.test(raw)) {
    throw new Error(`${name} must be an http:// URL, got ${raw === undefined ? "nothing" : `"${raw}"`}`);
  }
  return raw.replace(/\/+$/, "");
}

/**
 * Reads a positive number from the environment, or the fallback when unset.
 * @throws Error when the variable is set but not a positive number.
 */
export function envNumber(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}
