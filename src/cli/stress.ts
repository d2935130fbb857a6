import { writeSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { dirname } from "node:path";
import type { CommandModule } from "yargs";
import { parseSize, resolveSize } from "../agents/stress/quantity.js";
import { runStressor, type StressorSpec } from "../agents/stress/stressor.js";
import { parseDuration } from "../experiments/duration.js";
import { ChaosError } from "../experiments/errors.js";
import { endWith, type GlobalArgs } from "./context.js";

interface Args extends GlobalArgs {
  kind: StressorSpec["kind"];
  for: string;
  workers: number;
  load: number;
  size?: string;
  "grow-over"?: string;
  file?: string;
  free?: string;
  cgroup?: string[];
  tied: boolean;
  tag?: string;
}

function bytesOf(value: string | undefined): number {
  if (value === undefined) throw new ChaosError("invalid", "--size is required for memory and disk");
  const size = parseSize(value, "--size");
  if (!("bytes" in size))
    throw new ChaosError("invalid", "--size takes a quantity here (64Mi, 1Gi), not a percent");
  return size.bytes;
}

/**
 * Bytes a disk fill writes: `--size` (a quantity, or a percent of the filesystem) or until `--free` is left,
 * read from the filesystem the file goes in (a pod's volume is only seen from inside the pod); never more
 * than is available.
 * @throws ChaosError("invalid") for a bad size or neither/both given; ChaosError("agent") when the folder
 * cannot be read.
 */
async function diskBytes(size: string | undefined, free: string | undefined, file: string): Promise<number> {
  if ((size === undefined) === (free === undefined))
    throw new ChaosError("invalid", "disk takes exactly one of --size and --free");
  const dir = dirname(file);
  const fs = await statfs(dir).catch((err: Error) => {
    throw new ChaosError("agent", `cannot read the filesystem of ${dir}: ${err.message}`, { cause: err });
  });
  const total = fs.blocks * fs.bsize;
  const available = fs.bavail * fs.bsize;
  const wanted =
    size !== undefined
      ? resolveSize(parseSize(size, "--size"), total, "--size")
      : available - resolveSize(parseSize(free, "--free"), total, "--free");
  return Math.max(0, Math.min(wanted, available));
}

/**
 * The stressor as a command: what a stress fault starts as a child of the run (`--tied` to its pipe), and a
 * tool of its own (`chaos stress cpu --for 30s`). It prints JSON lines and stops at `--for`, on SIGINT or
 * SIGTERM, or when its standard input closes with `--tied`, removing its fill file.
 */
export const stressCommand: CommandModule<GlobalArgs, Args> = {
  command: "stress <kind>",
  describe: "burn CPU, hold memory or fill a file for a while (what stress faults run inside a target)",
  builder: (y) =>
    y
      .positional("kind", { choices: ["cpu", "memory", "disk"] as const, demandOption: true })
      .option("for", {
        type: "string",
        demandOption: true,
        describe: "how long: 30s, 5m (it always stops then)",
      })
      .option("workers", { type: "number", default: 1, describe: "cpu: threads burning CPU" })
      .option("load", { type: "number", default: 100, describe: "cpu: percent of a core each worker burns" })
      .option("size", {
        type: "string",
        describe: "memory, disk: bytes to hold or write (256Mi, 1Gi; disk: or a percent of the filesystem)",
      })
      .option("grow-over", { type: "string", describe: "memory: reach --size gradually over this long" })
      .option("file", { type: "string", describe: "disk: the file to create and fill (must not exist)" })
      .option("free", {
        type: "string",
        describe: "disk: instead of --size, write until this much is left (100Mi, or 5% of the filesystem)",
      })
      .option("cgroup", { type: "string", array: true, describe: "cgroup folders to join first" })
      .option("tied", { type: "boolean", default: false, describe: "stop when standard input closes" })
      .option("tag", { type: "string", describe: "a mark on the command line, to find it again" })
      .example("$0 stress cpu --workers 2 --load 50 --for 30s", "one core's worth of load for 30 s") as never,
  handler: async (args) => {
    await endWith(async () => {
      const spec: StressorSpec = {
        kind: args.kind,
        deadlineMs: parseDuration(args.for),
        tied: args.tied,
        cgroups: args.cgroup ?? [],
      };
      if (args.kind === "cpu") {
        if (!Number.isInteger(args.workers) || args.workers < 1 || args.workers > 1024)
          throw new ChaosError("invalid", "--workers must be a whole number from 1 to 1024");
        if (!(args.load >= 1 && args.load <= 100))
          throw new ChaosError("invalid", "--load must be from 1 to 100");
        spec.workers = args.workers;
        spec.load = args.load;
      } else if (args.kind === "disk") {
        if (!args.file) throw new ChaosError("invalid", "--file is required for disk");
        spec.file = args.file;
        spec.bytes = await diskBytes(args.size, args.free, args.file);
      } else {
        spec.bytes = bytesOf(args.size);
        if (args["grow-over"]) spec.growOverMs = parseDuration(args["grow-over"]);
      }
      // Written at once, not queued on the event loop: a CPU stressor starves its own main thread inside a
      // tight quota, and the run waits for "ready".
      return runStressor(spec, (event) => {
        try {
          writeSync(1, `${JSON.stringify(event)}\n`);
        } catch {}
      });
    });
  },
};
