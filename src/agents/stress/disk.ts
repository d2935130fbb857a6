import { stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import { ChaosError } from "../../experiments/errors.js";
import { defaultLedgerDir } from "../../experiments/ledger.js";
import type { ActionDefinition } from "../agent.js";
import { deadlineArg, newTag, prepareStressFault } from "./fault.js";
import { formatBytes, parseSize, resolveSize, sizeSchema } from "./quantity.js";
import { CONTROLLERS, logTarget, resolveStressTarget, targetSchema } from "./target.js";

/** Every fill file starts with this; a revert removes nothing else. */
export const FILL_PREFIX = ".chaoskit-fill-";

/** Free space a fill leaves on `/` or on the filesystem of the toolkit's state: 5%, at least 1Gi. */
export function diskMargin(total: number): number {
  return Math.max(2 ** 30, Math.floor(total / 20));
}

interface Fs {
  dev: number;
  total: number;
  available: number;
  blocks: number;
  bsize: number;
}

async function fsOf(path: string): Promise<Fs | undefined> {
  try {
    const [s, f] = await Promise.all([stat(path), statfs(path)]);
    return {
      dev: s.dev,
      total: f.blocks * f.bsize,
      available: f.bavail * f.bsize,
      blocks: f.blocks,
      bsize: f.bsize,
    };
  } catch {
    return undefined;
  }
}

/** The nearest existing folder at or above `dir` (the ledger folder may not exist yet). */
async function existing(dir: string): Promise<string> {
  for (let d = dir; ; d = join(d, "..")) {
    if (await fsOf(d)) return d;
    if (d === "/") return d;
  }
}

/**
 * Whether two filesystems share their storage: the same device, or (an overlay over it, as a container's
 * root is) the same size in the same blocks.
 */
function sameStorage(a: Fs, b: Fs): boolean {
  return a.dev === b.dev || (a.blocks === b.blocks && a.bsize === b.bsize);
}

/** Fills a folder's filesystem with one file, up to a size or until only `free` is left; the revert removes it. */
export const diskAction: ActionDefinition = {
  name: "disk",
  description:
    "fill the filesystem of a folder with one file (up to size, or until free is left); the revert removes it",
  target: targetSchema,
  args: {
    type: "object",
    additionalProperties: false,
    required: ["path"],
    properties: {
      path: {
        type: "string",
        pattern: "^/",
        description: "an existing folder (inside the target's filesystem for a process or container)",
      },
      size: sizeSchema("bytes to write: 1Gi, or a percent of the filesystem's size"),
      free: sizeSchema("write until only this much is left free: 100Mi, or a percent of the filesystem"),
      force: {
        type: "boolean",
        default: false,
        description:
          "allow filling / or the toolkit's state filesystem below its free margin (5%, at least 1Gi)",
      },
      deadline: deadlineArg,
    },
    oneOf: [
      { required: ["size"], properties: { size: true } },
      { required: ["free"], properties: { free: true } },
    ],
  },
  /**
   * @throws ChaosError("invalid") for a bad size, a path that is not a folder, or a fill that would leave
   * `/` or the state filesystem below its margin without `force`; ChaosError("agent") when the target
   * cannot be found.
   */
  async prepare(input, ctx) {
    const target = await resolveStressTarget(input.target, ctx, CONTROLLERS.disk);
    logTarget(ctx.log, target);
    const path = input.args.path as string;
    // A process's or container's own view of its files, seen from here.
    const dir = target.pid !== undefined ? join(`/proc/${target.pid}/root`, path) : path;
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new ChaosError("invalid", `path ${path} is not a folder on ${target.label}`, {
        hint: "name an existing folder; the fill file is created inside it",
      });
    }
    const fs = (await fsOf(dir))!;
    const wanted =
      input.args.size !== undefined
        ? resolveSize(parseSize(input.args.size), fs.total)
        : fs.available - resolveSize(parseSize(input.args.free, "free"), fs.total);
    const bytes = Math.max(0, Math.min(wanted, fs.available));
    const protectedFs = [
      { what: "/", fs: await fsOf("/") },
      { what: "the toolkit's state", fs: await fsOf(await existing(ctx.stateDir ?? defaultLedgerDir())) },
    ].filter((p) => p.fs && sameStorage(p.fs, fs));
    if (protectedFs.length > 0 && input.args.force !== true) {
      const margin = diskMargin(fs.total);
      const left = fs.available - bytes;
      if (left < margin) {
        throw new ChaosError(
          "invalid",
          `filling ${path} would leave ${formatBytes(left)} free on the filesystem of ${protectedFs.map((p) => p.what).join(" and ")}, below its ${formatBytes(margin)} margin`,
          { hint: "fill a filesystem of its own (a volume, a tmpfs), write less, or set force: true" },
        );
      }
    }
    const tag = newTag(ctx.runId);
    const file = join(dir, `${FILL_PREFIX}${tag}`);
    return prepareStressFault({
      kind: "disk",
      target,
      input,
      ctx,
      tag,
      description: `filling ${path} on ${target.label} with ${formatBytes(bytes)}`,
      spec: { bytes, file },
      waitHeldMs: 120_000,
      output: { path, file, bytes, size: formatBytes(bytes), availableBefore: fs.available },
    });
  },
};
