import { unlink } from "node:fs/promises";
import { basename } from "node:path";
import { ChaosError } from "../../experiments/errors.js";
import type { RevertContext, RevertDescription, RevertNote } from "../agent.js";
import { readBootId } from "../process/proc.js";
import { FILL_PREFIX } from "./disk.js";
import { forgetMeasured, measuredFor, type StressRevertData } from "./fault.js";
import { describeExit, forgetStressor, startedStressor, stopStressor } from "./launch.js";
import { formatBytes } from "./quantity.js";
import { targetCpuSeconds, targetMemory } from "./usage.js";

function readData(revert: RevertDescription): StressRevertData {
  const d = revert.data as Partial<StressRevertData>;
  if (revert.kind !== "stop" || typeof d.tag !== "string" || !/^[A-Za-z0-9_.-]+$/.test(d.tag)) {
    throw new ChaosError("agent", `malformed stress revert entry (kind ${revert.kind})`, {
      hint: "the ledger entry was not written by the stress agent",
    });
  }
  if (d.file !== undefined && (typeof d.file !== "string" || !basename(d.file).startsWith(FILL_PREFIX))) {
    throw new ChaosError(
      "agent",
      `stress revert entry names a file that is not a fill file: ${String(d.file)}`,
      {
        hint: `fill files are named ${FILL_PREFIX}…; remove anything else by hand`,
      },
    );
  }
  return d as StressRevertData;
}

/**
 * Stops a stressor and removes its fill file; says in a note what was measured during the fault and how the
 * stressor ended when it ended early (the kernel's OOM killer, most often). Idempotent: a stressor already
 * gone and a file already removed are fine.
 * @throws ChaosError("agent") for a malformed entry, a stressor that cannot be stopped, or a file that
 * cannot be removed.
 */
export async function revertStressFault(
  revert: RevertDescription,
  ctx: RevertContext,
): Promise<RevertNote | undefined> {
  const data = readData(revert);
  const notes: string[] = [];
  const own = startedStressor(data.tag);
  const seen = measuredFor(data.tag);
  if (seen) notes.push(...(await usageNotes(data, seen)));
  if (own?.exit) {
    notes.push(
      `the stressor ended early (${describeExit(own)}) ${Math.round((Date.now() - own.exit.at) / 1000)} s before the revert`,
    );
  }
  const sameBoot = data.bootId === undefined || data.bootId === (await readBootId());
  await stopStressor(data.tag, sameBoot ? data : undefined, ctx.log);
  if (data.file) {
    try {
      await unlink(data.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT")
        throw new ChaosError("agent", `cannot remove the fill file ${data.file}: ${(err as Error).message}`, {
          cause: err,
        });
    }
  }
  forgetStressor(data.tag);
  forgetMeasured(data.tag);
  return notes.length ? { note: notes.join("; ") } : undefined;
}

async function usageNotes(
  data: StressRevertData,
  seen: NonNullable<ReturnType<typeof measuredFor>>,
): Promise<string[]> {
  const notes: string[] = [];
  const seconds = (Date.now() - seen.since) / 1000;
  const [cpu, memory] = await Promise.all([targetCpuSeconds(seen.target), targetMemory(seen.target)]);
  const where = seen.target.kind === "host" ? "the host" : `${seen.target.label}'s cgroup`;
  if (data.kind === "cpu" && cpu !== undefined && seen.cpuBefore !== undefined && seconds > 0) {
    notes.push(
      `${where} used ${((cpu - seen.cpuBefore) / seconds).toFixed(2)} cores on average over ${seconds.toFixed(1)} s`,
    );
  }
  if (data.kind === "memory" && memory) {
    const of = memory.limit !== undefined ? ` of its ${formatBytes(memory.limit)} limit` : "";
    notes.push(`${where} held ${formatBytes(memory.workingSet)}${of} at the end of the fault`);
  }
  if (memory?.oomKills !== undefined && seen.oomBefore !== undefined && memory.oomKills > seen.oomBefore) {
    notes.push(
      `the kernel OOM-killed ${memory.oomKills - seen.oomBefore} process(es) in ${where} during the fault`,
    );
  }
  return notes;
}
