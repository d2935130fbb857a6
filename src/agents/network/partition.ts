import type { ActionDefinition } from "../agent.js";
import { describePeers, peerArgs, prepareNetworkFault, readPeerArgs, targetSchema } from "./fault.js";

/** Cuts the target off from peers (or from everything but its loopback) with filter rules in its namespace. */
export const partitionAction: ActionDefinition = {
  name: "partition",
  description:
    "drop (or reject with a TCP reset) the target's packets to and from peers, one way or both, in its network namespace",
  target: targetSchema,
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      ...peerArgs,
      direction: {
        enum: ["both", "egress", "ingress"],
        default: "both",
        description:
          "which packets: both (default), egress (those the target sends), ingress (those it receives)",
      },
      mode: {
        enum: ["drop", "reject"],
        default: "drop",
        description: "drop: silence, peers time out; reject: TCP resets, connections fail at once",
      },
    },
  },
  /** @throws ChaosError("invalid") for bad peers or a target in chaos's own namespace; "agent" when not found. */
  async prepare(input, ctx) {
    const peers = readPeerArgs(input.args);
    const direction = (input.args.direction as "both" | "egress" | "ingress" | undefined) ?? "both";
    const mode = (input.args.mode as "drop" | "reject" | undefined) ?? "drop";
    const label = `partition (${mode}, ${direction}) ${describePeers(peers, "from everything but its loopback")}`;
    return prepareNetworkFault(input, ctx, {
      label,
      plan: (tag) => ({
        tag,
        packets: { egress: peers.to, ingress: peers.from, direction, action: { kind: mode } },
      }),
    });
  },
};

/** Drops a share of the target's packets to and from peers at random (iptables `statistic`). */
export const lossAction: ActionDefinition = {
  name: "loss",
  description: "drop a share of the target's packets to and from peers at random, in its network namespace",
  target: targetSchema,
  args: {
    type: "object",
    additionalProperties: false,
    required: ["probability"],
    properties: {
      ...peerArgs,
      probability: {
        type: "number",
        exclusiveMinimum: 0,
        maximum: 1,
        description: "share of packets dropped, e.g. 0.1",
      },
      direction: { enum: ["both", "egress", "ingress"], default: "both", description: "which packets" },
    },
  },
  /** @throws ChaosError("invalid") for bad peers or a target in chaos's own namespace; "agent" when not found. */
  async prepare(input, ctx) {
    const peers = readPeerArgs(input.args);
    const probability = input.args.probability as number;
    const direction = (input.args.direction as "both" | "egress" | "ingress" | undefined) ?? "both";
    const label = `loss ${Math.round(probability * 1000) / 10}% (${direction}) ${describePeers(peers, "on every packet but its loopback's")}`;
    return prepareNetworkFault(input, ctx, {
      label,
      plan: (tag) => ({
        tag,
        packets: { egress: peers.to, ingress: peers.from, direction, action: { kind: "loss", probability } },
      }),
    });
  },
};
