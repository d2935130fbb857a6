import { randomBytes } from "node:crypto";
import { parseDuration } from "../../experiments/duration.js";
import type { ActivityInput, AgentContext, PreparedFault, RevertDescription } from "../agent.js";
import { readBootId } from "../process/proc.js";
import { joinDirs } from "./cgroup.js";
import { describeExit, killedByKernel, launchStressor } from "./launch.js";
import type { StressorSpec } from "./stressor.js";
import type { StressTarget } from "./target.js";
import { targetCpuSeconds, targetMemory } from "./usage.js";

/** How long a stressor may outlive the end of its step's duration before it stops by itself. */
export const DEADLINE_GRACE_MS = 30_000;
/** A stressor's deadline when its step has no duration (the fault then lasts until the method ends). */
export const DEFAULT_DEADLINE_MS = 10 * 60_000;

/** What the revert of a stress fault records: enough to find and stop the stressor from a fresh process. */
export interface StressRevertData {
  kind: StressorSpec["kind"];
  /** On the stressor's command line: how `chaos rollback` finds it. */
  tag: string;
  target: string;
  /** Known once it started. */
  pid?: number;
  startTime?: number;
  bootId?: string;
  /** The fill file (disk), removed by the revert. */
  file?: string;
}

/** What the run remembers about a live stress fault, to tell the journal what was measured. */
interface Measured {
  target: StressTarget;
  since: number;
  cpuBefore?: number;
  oomBefore?: number;
}
const measured = new Map<string, Measured>();

/** Measurements taken when the fault was applied, for its revert's note. */
export function measuredFor(tag: string): Measured | undefined {
  return measured.get(tag);
}
export function forgetMeasured(tag: string): void {
  measured.delete(tag);
}

/** The stressor's deadline: the step's duration plus a grace, `deadline` when written, else 10 minutes. */
export function deadlineOf(input: ActivityInput): number {
  if (typeof input.args.deadline === "string") return parseDuration(input.args.deadline);
  return input.durationMs !== undefined ? input.durationMs + DEADLINE_GRACE_MS : DEFAULT_DEADLINE_MS;
}

/** A tag that names one fault of one run, safe on a command line. */
export function newTag(runId: string): string {
  return `${runId.replace(/[^A-Za-z0-9_.-]/g, "").slice(0, 40)}-${randomBytes(4).toString("hex")}`;
}

/** JSON Schema of the `deadline` argument shared by every stress action. */
export const deadlineArg = {
  type: "string",
  pattern: "^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)\\s*$",
  $comment: "duration:length",
  description:
    "when the stressor stops by itself whatever happens (default: the step's duration + 30s, else 10m)",
} as const;

/**
 * The shared shape of every stress action: the revert (naming the stressor's tag, and its fill file) is
 * returned for the ledger before anything starts; apply starts the stressor, waits for it to be ready,
 * then completes the revert with its pid and start time.
 */
export async function prepareStressFault(opts: {
  kind: StressorSpec["kind"];
  target: StressTarget;
  input: ActivityInput;
  ctx: AgentContext;
  /** What the stressor does, for the revert's description: "holding 256Mi on container payments". */
  description: string;
  spec: Omit<StressorSpec, "kind" | "deadlineMs" | "tied" | "cgroups">;
  /** How long to wait until the stressor holds all of its bytes (memory, disk). */
  waitHeldMs?: number;
  output: Record<string, unknown>;
  /** The fault's tag, when the action needed it first (disk: the fill file is named after it). */
  tag?: string;
}): Promise<PreparedFault> {
  const { kind, target, ctx } = opts;
  const tag = opts.tag ?? newTag(ctx.runId);
  const data: StressRevertData = {
    kind,
    tag,
    target: target.label,
    bootId: await readBootId(),
    ...(opts.spec.file ? { file: opts.spec.file } : {}),
  };
  const revert: RevertDescription = {
    agent: "stress",
    kind: "stop",
    description: `stop ${opts.description}${opts.spec.file ? ` and remove ${opts.spec.file}` : ""}`,
    data: data as unknown as Record<string, unknown>,
  };
  const spec: StressorSpec = {
    kind,
    ...opts.spec,
    deadlineMs: deadlineOf(opts.input),
    tied: true,
    cgroups: target.join ? joinDirs(target.cgroups) : [],
  };
  return {
    revert,
    locks: target.locks,
    async apply() {
      const before = await readUsage(target);
      measured.set(tag, { target, since: Date.now(), ...before });
      const stressor = await launchStressor(spec, tag, ctx.log, {
        waitHeldMs: opts.waitHeldMs,
        signal: ctx.signal,
      });
      // The controller rewrites the ledger entry with these, so a later rollback signals this very process.
      revert.data = {
        ...data,
        pid: stressor.pid,
        ...(stressor.startTime ? { startTime: stressor.startTime } : {}),
      };
      const held = [...stressor.events].reverse().find((e) => e.event === "held");
      return {
        ...opts.output,
        target: target.label,
        stressor: stressor.pid,
        deadline: `${Math.round(spec.deadlineMs / 1000)}s`,
        ...(held ? { held: held.bytes, ...(held.full ? { full: true } : {}) } : {}),
        ...(killedByKernel(stressor) ? { ended: describeExit(stressor) } : {}),
      };
    },
  };
}

async function readUsage(target: StressTarget): Promise<{ cpuBefore?: number; oomBefore?: number }> {
  const [cpu, memory] = await Promise.all([targetCpuSeconds(target), targetMemory(target)]);
  return { cpuBefore: cpu, oomBefore: memory?.oomKills };
}
