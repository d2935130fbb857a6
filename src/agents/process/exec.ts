import { spawn } from "node:child_process";
import { durationOf, parseDuration } from "../../experiments/duration.js";
import { ChaosError, NoAnswerError } from "../../experiments/errors.js";
import { whichProgram } from "../../experiments/program.js";
import { redactThenCut } from "../../experiments/redact.js";
import type { ActionDefinition, AgentContext, ProbeDefinition } from "../agent.js";

/** Output kept per stream: enough for a tolerance on a command's answer, never a memory problem. */
const STREAM_MAX = 1024 * 1024;

export const execArgsSchema = {
  type: "object",
  additionalProperties: false,
  required: ["path"],
  properties: {
    path: { type: "string", minLength: 1, description: "the program: a path, or a name found on PATH" },
    arguments: {
      type: "array",
      items: { type: "string" },
      description: "its arguments, passed as they are (no shell)",
    },
    shell: {
      type: "string",
      description: "instead of arguments: a command line appended to path and run by /bin/sh",
    },
    timeout: { ...durationOf("timeout"), default: "60s" },
  },
} as const;

interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the command to its end, or kills it (SIGKILL) at its timeout or when the run stops.
 * @throws NoAnswerError when it outlives its timeout; ChaosError("agent") when it cannot start or the run
 *   is stopping.
 */
async function runCommand(args: Record<string, unknown>, ctx: AgentContext): Promise<Ran> {
  const path = String(args.path);
  const program = whichProgram(path);
  if (!program)
    throw new ChaosError("agent", `${path}: no such program`, { hint: "give a path or a name on PATH" });
  const timeoutMs = parseDuration(args.timeout ?? "60s", "timeout");
  const argv =
    typeof args.shell === "string"
      ? ["/bin/sh", ["-c", `${program} ${args.shell}`]]
      : [program, (args.arguments as string[] | undefined) ?? []];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv[1] as string[], { stdio: ["ignore", "pipe", "pipe"] });
    const out = { stdout: "", stderr: "" };
    for (const stream of ["stdout", "stderr"] as const) {
      child[stream].setEncoding("utf8");
      child[stream].on("data", (chunk: string) => {
        if (out[stream].length < STREAM_MAX) out[stream] += chunk.slice(0, STREAM_MAX - out[stream].length);
      });
    }
    let why: ChaosError | undefined;
    const stop = (err: ChaosError) => {
      why ??= err;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(
      () => stop(new NoAnswerError(`${path} took longer than its timeout (${timeoutMs} ms)`)),
      timeoutMs,
    );
    const onAbort = () => stop(new ChaosError("agent", `${path} was stopped: the run is stopping`));
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    if (ctx.signal.aborted) onAbort();
    child.on("error", (err) => {
      why ??= new ChaosError("agent", `${path} could not start: ${err.message}`);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
      if (why) reject(why);
      // A program killed by a signal exits, for a shell, with 128 + the signal number; Python reports -N.
      else resolve({ status: code ?? (signal ? -1 : 0), ...out });
    });
  });
}

function oneLine(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return redactThenCut(line, 60, "...");
}

function checkExec(args: Record<string, unknown>) {
  const problems: { path: string[]; message: string; hint?: string }[] = [];
  if (args.shell !== undefined && args.arguments !== undefined)
    problems.push({ path: ["shell"], message: "give either arguments or shell, not both" });
  if (typeof args.path === "string" && !/\$\{/.test(args.path) && !whichProgram(args.path))
    problems.push({
      path: ["path"],
      message: `${args.path} cannot be found or is not executable`,
      hint: "give a path or a name on PATH",
    });
  return problems;
}

/** Runs a command and measures it: value is the exit status, fields status, stdout and stderr. */
export const execProbe: ProbeDefinition = {
  name: "exec",
  description: "run a command; value is its exit status, fields status, stdout, stderr",
  args: execArgsSchema,
  /** @throws NoAnswerError past its timeout; ChaosError("agent") when it cannot start. */
  async run(args, ctx) {
    const ran = await runCommand(args, ctx);
    return {
      value: ran.status,
      fields: { ...ran },
      summary: `exit ${ran.status}${ran.stdout.trim() ? `: ${oneLine(ran.stdout)}` : ""}`,
    };
  },
  check: checkExec,
};

/**
 * Runs a command as a step of the method. It leaves nothing the toolkit could undo: a command that changes
 * something needs its own undo command in `rollbacks`. A non-zero exit is recorded, not an error (as in
 * Chaos Toolkit, where only the hypothesis judges).
 */
export const execAction: ActionDefinition = {
  name: "exec",
  description:
    "run a command (argv, or a shell line); its exit status and output are recorded; nothing to revert",
  args: execArgsSchema,
  /** @throws ChaosError("agent") when the program cannot be found. */
  async prepare(input, ctx) {
    if (!whichProgram(String(input.args.path)))
      throw new ChaosError("agent", `${String(input.args.path)}: no such program`);
    return {
      async apply() {
        const ran = await runCommand(input.args, ctx);
        return { status: ran.status, stdout: ran.stdout.slice(0, 4096), stderr: ran.stderr.slice(0, 4096) };
      },
    };
  },
};
