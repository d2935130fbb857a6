import type { ActionDefinition } from "../agent.js";
import { toxiproxyAgent } from "../toxiproxy/index.js";
import {
  readToxicArgs,
  type ToxicActionSpec,
  toxicArgsSchema,
  toxicSpecOf,
} from "../toxiproxy/toxic-action.js";
import { describePeers, peerArgs, prepareNetworkFault, readPeerArgs, targetSchema } from "./fault.js";

/**
 * One interception action per toxic the toxiproxy agent offers (latency, bandwidth, slicer, timeout, …), with
 * the same arguments plus `to` / `from`: the target's connections are redirected into an interceptor in
 * its namespace that applies the toxic, so a process never configured to use a proxy gets every toxic.
 */
function interceptAction(name: string, spec: ToxicActionSpec): ActionDefinition {
  return {
    name,
    description: `${spec.description}, on the target's own connections (to) or connections to it (from), intercepted in its network namespace`,
    target: targetSchema,
    args: toxicArgsSchema(spec, peerArgs),
    /**
     * @throws ChaosError("invalid") for bad arguments or a target in chaos's own namespace; ChaosError("agent")
     * when the target cannot be resolved.
     */
    async prepare(input, ctx) {
      const { attributes, streams, toxicity, label } = readToxicArgs(spec, input.args);
      const peers = readPeerArgs(input.args);
      return prepareNetworkFault(input, ctx, {
        label: `${label} on ${describePeers(peers, "every connection it opens")}`,
        plan: (tag) => ({
          tag,
          intercept: {
            egress: peers.to ?? (peers.from ? undefined : []),
            ingress: peers.from,
            toxics: streams.map((stream) => ({ type: spec.type, stream, toxicity, attributes })),
          },
        }),
      });
    },
  };
}

/** Every toxic action of the toxiproxy agent, as an interception action of this agent. */
export function interceptActions(): Record<string, ActionDefinition> {
  const out: Record<string, ActionDefinition> = {};
  for (const [name, action] of Object.entries(toxiproxyAgent.actions)) {
    const spec = toxicSpecOf(action);
    if (spec) out[name] = interceptAction(name, spec);
  }
  return out;
}
