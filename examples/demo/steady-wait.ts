import { relative } from "node:path";
import { waitForSteadyState } from "./steady.js";

/**
 * Waits (up to 60 s) until the app is steady for an experiment, saying so. When it never gets there the
 * run goes ahead anyway: the CLI then records the verdict "not steady" with its reasons.
 * @throws the signal's reason when the demo is interrupted.
 */
export async function waitForSteady(
  file: string,
  prometheusUrl: string,
  signal: AbortSignal,
  say: (line: string) => void,
): Promise<void> {
  const started = Date.now();
  try {
    await waitForSteadyState(file, { prometheusUrl, timeoutMs: 60_000, signal });
    say(
      `  the app is steady for ${relative(process.cwd(), file)} (waited ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  } catch (err) {
    signal.throwIfAborted();
    say(`  ! ${(err as Error).message}; running anyway`);
  }
}
