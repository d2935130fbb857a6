import { randomBytes } from "node:crypto";
import { ChaosError } from "../../experiments/errors.js";
import type { ActivityInput, AgentContext, JsonSchema, PreparedFault, RevertDescription } from "../agent.js";
import {
  byNamespace,
  type Helper,
  type InsideIdentity,
  insideTargetSchema,
  launchHelper,
  readInsideTarget,
  readNetns,
  resolveInside,
  TAG_FLAG,
} from "../inside/index.js";
import { preparePodNetworkFault } from "../kubernetes/pod-faults.js";
import { describePeer, type Peer, peersSchema, readPeers } from "./peers.js";
import type { NetworkPlan } from "./plan.js";

/** The revert kind of every network fault: stop the helpers, remove the tagged rules. */
export const REVERT_KIND = "remove-rules";

/**
 * A helper's deadline when the step has no duration (the fault lasts until the run's rollbacks): its pipe
 * ends it as soon as the run ends or dies; this bounds a run that hangs.
 */
export const HELPER_MAX_LIFETIME_MS = 3_600_000;
/**
 * Past the step's duration, the time the run has to revert before the helper's own deadline ends it
 * ($CHAOS_NETWORK_DEADLINE_MARGIN_MS changes it, e.g. to test a hung run quickly).
 */
export const HELPER_DEADLINE_MARGIN_MS = Number(process.env.CHAOS_NETWORK_DEADLINE_MARGIN_MS) || 30_000;

/** When a helper of this step undoes its fault by itself, whatever became of the run. */
export function helperDeadline(input: ActivityInput, now = Date.now()): number {
  return (
    now +
    (input.durationMs !== undefined ? input.durationMs + HELPER_DEADLINE_MARGIN_MS : HELPER_MAX_LIFETIME_MS)
  );
}

/** What the ledger keeps: the tag and, per namespace, the process that names it. */
export interface RemoveRulesData {
  tag: string;
  namespaces: (InsideIdentity & { label: string })[];
  /** A qdisc fault: the kind of root qdisc it adds, under the handle its tag names. */
  qdisc?: "tbf" | "netem";
  /** Filled in once applied: the helpers' own identities, for the journal and rollback. */
  helpers?: { pid: number; startTime: number; netns: number }[];
}

/** `to` and `from`, shared by every network action. */
export const peerArgs: Record<string, JsonSchema> = {
  to: peersSchema('the target\'s own connections to these destinations: "host:port", "CIDR" or ":port"'),
  from: peersSchema(
    'connections to the target from these peers: "address:target-port", "CIDR" or ":target-port"',
  ),
};

export const targetSchema = insideTargetSchema;

export function readPeerArgs(args: Record<string, unknown>): { to?: Peer[]; from?: Peer[] } {
  return { to: readPeers(args.to, "args.to"), from: readPeers(args.from, "args.from") };
}

/** "to 127.0.0.1/32:5432, from *:9000", or "all TCP" — for descriptions. */
export function describePeers(
  { to, from }: { to?: Peer[]; from?: Peer[] },
  all = "every connection",
): string {
  const parts = [
    ...(to ? [`to ${to.map(describePeer).join(", ")}`] : []),
    ...(from ? [`from ${from.map(describePeer).join(", ")}`] : []),
  ];
  return parts.length ? parts.join("; ") : all;
}

/** The helpers this run started, by tag; any still running when the run's resources close are stopped. */
export function helpersFor(ctx: AgentContext): Promise<Map<string, Helper[]>> {
  return ctx.resources.use(
    "network:helpers",
    async () => new Map<string, Helper[]>(),
    async (map) => {
      await Promise.all([...map.values()].flat().map((h) => h.stop(10_000)));
    },
  );
}

/**
 * The shared shape of every network action: resolve the targets (touching nothing), one helper per network
 * namespace; the revert (written to the ledger before anything is applied) names the tag and each
 * namespace's identity; apply() starts the helpers, each adding its tagged rules from inside.
 * @throws ChaosError("invalid") for a target in chaos's own namespace or bad `to`/`from`;
 * ChaosError("agent") when the target cannot be resolved.
 */
export async function prepareNetworkFault(
  input: ActivityInput,
  ctx: AgentContext,
  fault: { label: string; plan: (tag: string) => NetworkPlan },
): Promise<PreparedFault> {
  if (input.target?.pod) return preparePodNetworkFault(input, ctx, fault);
  const targets = await resolveInside(readInsideTarget(input.target), ctx);
  const own = await readNetns("self");
  const shared = targets.find((t) => t.identity.netns === own);
  if (shared) {
    throw new ChaosError("invalid", `${shared.label} shares chaos's own network namespace`, {
      hint: "a network fault acts on a whole namespace, here the one of chaos and its probes; run the service in a container or a namespace of its own, or put the embedded proxy in front of it (toxiproxy agent)",
    });
  }
  const groups = byNamespace(targets);
  const tag = `${ctx.runId}.${randomBytes(3).toString("hex")}`;
  const plan = fault.plan(tag);
  const namespaces = groups.map((g) => ({ ...g[0]!.identity, label: g.map((t) => t.label).join(", ") }));
  const data: RemoveRulesData = { tag, namespaces, ...(plan.qdisc ? { qdisc: plan.qdisc.kind } : {}) };
  const where = namespaces.map((n) => `${n.label} (netns ${n.netns})`).join("; ");
  const revert: RevertDescription = {
    agent: "network",
    kind: REVERT_KIND,
    description: `remove ${fault.label} from ${where}`,
    data: { ...data },
  };
  return {
    revert,
    locks: [...new Set(targets.flatMap((t) => t.locks))],
    async apply() {
      const running = await helpersFor(ctx);
      const started: Helper[] = [];
      running.set(tag, started);
      for (const ns of namespaces) {
        const helper = await launchHelper({
          target: ns,
          args: ["intercept", TAG_FLAG, tag, "--plan", JSON.stringify(plan)],
          deadline: helperDeadline(input),
          log: ctx.log.child({ netns: ns.netns }),
        });
        started.push(helper);
      }
      // launchHelper checked each helper entered its namespace: helpers and namespaces share their order.
      revert.data.helpers = started.map((h, i) => ({
        pid: h.pid,
        startTime: h.startTime,
        netns: namespaces[i]!.netns,
      }));
      return {
        fault: fault.label,
        namespaces: namespaces.map((n, i) => ({
          target: n.label,
          netns: n.netns,
          helper: started[i]!.pid,
          rules: started[i]!.ready.rules,
          ...(started[i]!.ready.qdisc ? { interfaces: started[i]!.ready.interfaces } : {}),
          ...(started[i]!.ready.port ? { interceptor: started[i]!.ready.port } : {}),
          ...(started[i]!.ready.metrics ? { metrics: `unix:${started[i]!.ready.metrics}` } : {}),
        })),
      };
    },
  };
}
