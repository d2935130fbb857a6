import type { Peer } from "./peers.js";
import type { QdiscPlan } from "./qdisc.js";
import type { Rule } from "./rules.js";

/**
 * What a helper does inside one namespace, decided by the run and handed to `chaos intercept --plan`:
 *
 *   intercept  the target's own TCP connections to `to` (egress) and connections from `from` to the target
 *              (ingress) are redirected (nat REDIRECT) into the helper's interceptor, which joins each to its
 *              original destination through the embedded proxy's toxics
 *   packets    filter rules that drop or reject (partition), or drop at random (loss)
 *   qdisc      a root qdisc on the namespace's interfaces: tbf (bandwidth) or netem (where the kernel has it)
 */
export interface NetworkPlan {
  /** The run id and the fault's own id: the iptables comment and the helper's `--tag`. */
  tag: string;
  intercept?: {
    /** Destinations of the target's own connections; [] = every destination. */
    egress?: Peer[];
    /** Peers connecting to the target (address = the peer's, port = the target's); only when given. */
    ingress?: Peer[];
    toxics: PlannedToxic[];
  };
  packets?: {
    egress?: Peer[];
    ingress?: Peer[];
    /** Which packets: the target's outgoing ones, its incoming ones, or both. */
    direction: "egress" | "ingress" | "both";
    action: { kind: "drop" } | { kind: "reject" } | { kind: "loss"; probability: number };
  };
  qdisc?: QdiscPlan;
}

/** A toxic as the interceptor applies it to each redirected connection (Toxiproxy's meaning of streams). */
export interface PlannedToxic {
  type: string;
  /** upstream = from the connecting side to the accepting side; downstream = back. */
  stream: "upstream" | "downstream";
  toxicity: number;
  /** As the proxy's API takes them: numbers for byte toxics; HTTP toxics also take strings, maps, `match`. */
  attributes: Record<string, unknown>;
}

const owner = (gid: number) => ["-m", "owner", "!", "--gid-owner", String(gid)];

/** `-p tcp -d 10.0.0.0/8 --dport 5432`-style match of one peer seen from one side. */
function match(p: Peer | undefined, addr: "-d" | "-s", port: "--dport" | "--sport", tcp: boolean): string[] {
  const out = tcp || p?.port !== undefined ? ["-p", "tcp"] : [];
  if (p?.cidr) out.push(addr, p.cidr);
  if (p?.port !== undefined) out.push(port, String(p.port));
  return out;
}

/** The nat rules that send redirected connections to the interceptor listening on `port`. */
export function interceptRules(
  plan: NonNullable<NetworkPlan["intercept"]>,
  port: number,
  gid: number,
): Rule[] {
  const rules: Rule[] = [];
  const redirect = ["-j", "REDIRECT", "--to-ports", String(port)];
  if (plan.egress) {
    for (const p of plan.egress.length ? plan.egress : [undefined]) {
      // The helper's own connections (to the original destinations) are never redirected: no loop.
      rules.push({
        table: "nat",
        spec: ["OUTPUT", ...match(p, "-d", "--dport", true), ...owner(gid), ...redirect],
      });
    }
  }
  for (const p of plan.ingress ?? []) {
    rules.push({ table: "nat", spec: ["PREROUTING", ...match(p, "-s", "--dport", true), ...redirect] });
  }
  return rules;
}

/**
 * The filter rules of a partition or loss. For `to` peers the target's outgoing packets go to the peer and
 * its incoming ones come from it; for `from` peers (connections to the target's port) the other way round.
 * Without peers, every packet that does not stay on the loopback.
 */
export function packetRules(plan: NonNullable<NetworkPlan["packets"]>, gid: number): Rule[] {
  const verdict =
    plan.action.kind === "loss"
      ? [
          "-m",
          "statistic",
          "--mode",
          "random",
          "--probability",
          String(plan.action.probability),
          "-j",
          "DROP",
        ]
      : plan.action.kind === "reject"
        ? ["-j", "REJECT", "--reject-with", "tcp-reset"]
        : ["-j", "DROP"];
  // A reject is a TCP reset, which only TCP rules may send.
  const tcpReset = plan.action.kind === "reject";
  const out: Rule[] = [];
  // The resets a reject sends must get through the rules of the other direction, or no one hears them.
  const notReset = tcpReset ? ["!", "--tcp-flags", "RST", "RST"] : [];
  const add = (chain: "OUTPUT" | "INPUT", m: string[]) =>
    out.push({
      table: "filter",
      spec: [chain, ...m, ...notReset, ...(chain === "OUTPUT" ? owner(gid) : []), ...verdict],
    });
  const wantsOut = plan.direction !== "ingress";
  const wantsIn = plan.direction !== "egress";
  if (!plan.egress && !plan.ingress) {
    if (wantsOut) add("OUTPUT", ["!", "-o", "lo", ...(tcpReset ? ["-p", "tcp"] : [])]);
    if (wantsIn) add("INPUT", ["!", "-i", "lo", ...(tcpReset ? ["-p", "tcp"] : [])]);
    return out;
  }
  for (const p of plan.egress ?? []) {
    if (wantsOut) add("OUTPUT", match(p, "-d", "--dport", tcpReset));
    if (wantsIn) add("INPUT", match(p, "-s", "--sport", tcpReset));
  }
  for (const p of plan.ingress ?? []) {
    if (wantsIn) add("INPUT", match(p, "-s", "--dport", tcpReset));
    if (wantsOut) add("OUTPUT", match(p, "-d", "--sport", tcpReset));
  }
  return out;
}
