import { PassThrough } from "node:stream";
import { ChaosError } from "../../experiments/errors.js";
import type { Engine } from "./engine.js";

const KEEP = 2_000; // characters of output kept for the journal and for messages

function tail(text: string): string {
  return text.length > KEEP ? `…${text.slice(-KEEP)}` : text;
}

/**
 * Runs `argv` in a running container as Docker's exec does — as an argv, never through a shell — and waits
 * for it to end, within the engine's deadline plus `extraMs`.
 * @returns its exit code and the end of its stdout and stderr.
 * @throws the engine's error (404 gone, 409 not running); ChaosError("agent") past the deadline, or when the
 * command exits non-zero (with its stderr).
 */
export async function execIn(
  engine: Engine,
  container: { id: string; name: string },
  argv: string[],
  signal: AbortSignal,
  opts: { user?: string; workdir?: string; extraMs?: number } = {},
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const what = `exec ${argv[0]} in ${container.name}`;
  const result = await engine.call(
    what,
    signal,
    async (abortSignal) => {
      const exec = await engine.docker.getContainer(container.id).exec({
        Cmd: argv,
        AttachStdout: true,
        AttachStderr: true,
        ...(opts.user ? { User: opts.user } : {}),
        ...(opts.workdir ? { WorkingDir: opts.workdir } : {}),
        abortSignal,
      });
      const stream = await exec.start({ hijack: true, stdin: false, abortSignal });
      let stdout = "";
      let stderr = "";
      const out = new PassThrough().setEncoding("utf8");
      const err = new PassThrough().setEncoding("utf8");
      out.on("data", (c: string) => {
        stdout = tail(stdout + c);
      });
      err.on("data", (c: string) => {
        stderr = tail(stderr + c);
      });
      engine.docker.modem.demuxStream(stream, out, err);
      abortSignal.addEventListener("abort", () => stream.destroy(), { once: true });
      await new Promise<void>((resolve, reject) => {
        stream.once("end", resolve);
        stream.once("close", resolve);
        stream.once("error", reject);
      });
      const info = await exec.inspect({ abortSignal });
      return { exitCode: info.ExitCode ?? -1, stdout, stderr };
    },
    opts.extraMs ?? 0,
  );
  if (result.exitCode !== 0) {
    throw new ChaosError(
      "agent",
      `${what} exited with ${result.exitCode}: ${result.stderr.trim() || "(no stderr)"}`,
      {
        hint: "the command runs as an argv, without a shell; check it with docker exec",
      },
    );
  }
  return result;
}
