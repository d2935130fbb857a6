import { createHash } from "node:crypto";
import { ChaosError } from "../../experiments/errors.js";
import { requireInsideTools, runTool } from "../inside/preflight.js";

/**
 * Packet-level shaping with `tc`: a root qdisc (`tbf` or `netem`) on interfaces of the target's namespace.
 * A qdisc takes no comment, so its handle is the tag's: derived from the fault's tag, it tells our qdiscs from
 * everyone else's, and a revert (in the helper or from `chaos rollback`) deletes only a root qdisc that still
 * has that handle. Deleting a root qdisc gives the interface back its default one.
 */

/** Runs `tc <args>` in some namespace; returns its stdout. */
export type Tc = (args: string[]) => Promise<string>;

/** tc in the namespace this process is in (the helper's). */
export const localTc: Tc = (args) => runTool(["tc", ...args]);

/** tc in the network namespace of `pid`, entered with nsenter (for reverts from outside). */
export const tcIn =
  (pid: number): Tc =>
  (args) =>
    runTool(["nsenter", `--net=/proc/${pid}/ns/net`, "--", "tc", ...args]);

/** The qdisc a fault adds: its kind and the parameters after it. */
export interface QdiscPlan {
  kind: "tbf" | "netem";
  params: string[];
  /** Interfaces to shape; [] = every interface of the namespace but the loopback. */
  interfaces: string[];
}

/** The root qdisc handle of a fault, "8a3f:" (major 0x1000-0xfffe, from the tag). */
export function qdiscHandle(tag: string): string {
  const n = createHash("sha256").update(tag).digest().readUInt16BE(0);
  return `${(0x1000 + (n % 0xeffe)).toString(16)}:`;
}

/** Root qdiscs in `tc qdisc show` output: interface ▶ { kind, handle }. */
export function rootQdiscs(text: string): { dev: string; kind: string; handle: string }[] {
  const out: { dev: string; kind: string; handle: string }[] = [];
  for (const line of text.split("\n")) {
    const m = /^qdisc (\S+) ([0-9a-f]+:)\s.*\bdev (\S+) root\b/.exec(line);
    if (m) out.push({ kind: m[1]!, handle: m[2]!, dev: m[3]! });
  }
  return out;
}

/** The interfaces of the namespace (`ip -o link` in it is not needed: /sys/class/net is the namespace's). */
export async function namespaceInterfaces(tc: Tc): Promise<string[]> {
  // `tc qdisc show` lists every interface, each with at least one root qdisc (noqueue included).
  return [...new Set(rootQdiscs(await tc(["qdisc", "show"])).map((q) => q.dev))];
}

/**
 * Adds the plan's root qdisc with the tag's handle to each interface it names (or every one but `lo`).
 * @returns the interfaces shaped.
 * @throws ChaosError("agent") with tc's message, or when there is no interface to shape.
 */
export async function addQdiscs(plan: QdiscPlan, tag: string, tc: Tc): Promise<string[]> {
  const all = await namespaceInterfaces(tc);
  const wanted = plan.interfaces.length ? plan.interfaces : all.filter((d) => d !== "lo");
  const unknown = wanted.filter((d) => !all.includes(d));
  if (unknown.length) {
    throw new ChaosError("agent", `no interface ${unknown.join(", ")} in the target's namespace`, {
      hint: `it has ${all.join(", ")}`,
    });
  }
  if (wanted.length === 0) {
    throw new ChaosError("agent", "the target's namespace has no interface but its loopback to shape", {
      hint: 'name it explicitly with `interfaces: ["lo"]` to shape the target\'s local traffic',
    });
  }
  for (const dev of wanted) {
    await tc(["qdisc", "replace", "dev", dev, "root", "handle", qdiscHandle(tag), plan.kind, ...plan.params]);
  }
  return wanted;
}

/**
 * Deletes every root qdisc that carries the tag's handle, and only those. Idempotent.
 * @returns how many it deleted.
 */
export async function removeQdiscs(tag: string, tc: Tc): Promise<number> {
  const handle = qdiscHandle(tag);
  const ours = rootQdiscs(await tc(["qdisc", "show"])).filter((q) => q.handle === handle);
  for (const q of ours) await tc(["qdisc", "del", "dev", q.dev, "root", "handle", handle]);
  return ours.length;
}

/** What probing a qdisc kind found, cached per process: the kernel does not change under a run. */
const probed = new Map<string, Promise<string | undefined>>();

/**
 * Whether the kernel has the qdisc `kind` (e.g. `sch_netem`), tried in a throwaway network namespace of its
 * own (`unshare -n`), so nothing anyone uses is touched.
 * @returns undefined when it has it, else tc's complaint.
 */
export function probeQdisc(kind: QdiscPlan["kind"]): Promise<string | undefined> {
  let p = probed.get(kind);
  if (!p) {
    const params = kind === "tbf" ? ["rate", "1mbit", "burst", "3200", "latency", "50ms"] : ["delay", "1ms"];
    p = runTool(["unshare", "-n", "tc", "qdisc", "add", "dev", "lo", "root", kind, ...params]).then(
      () => undefined,
      (err: Error) => err.message,
    );
    probed.set(kind, p);
  }
  return p;
}

/**
 * The preflight of a qdisc fault: root, `tc`, `unshare`, `nsenter`, and the kernel's `sch_<kind>`.
 * @throws ChaosError("agent") naming what is missing (exit 4), with nothing touched.
 */
export async function requireQdisc(kind: QdiscPlan["kind"], what: string): Promise<void> {
  await requireInsideTools(what, ["tc", "unshare", "nsenter"]);
  const why = await probeQdisc(kind);
  if (why === undefined) return;
  throw new ChaosError(
    "agent",
    `${what} needs the kernel's sch_${kind}, which this kernel lacks: nothing was touched`,
    {
      hint:
        kind === "netem"
          ? "load it (modprobe sch_netem) or use a kernel built with CONFIG_NET_SCH_NETEM; without it, network.latency (interception) and network.loss (iptables statistic) need no netem"
          : `load it (modprobe sch_${kind}); tc said: ${why}`,
    },
  );
}
