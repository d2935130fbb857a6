import { ChaosError } from "../experiments/errors.js";
import { didYouMean } from "../experiments/suggest.js";
import type { ActionDefinition, Agent, ProbeDefinition } from "./agent.js";

/** Maps agent names to agents; every lookup failure names what exists. */
export class Registry {
  private readonly byName = new Map<string, Agent>();

  constructor(agents: Agent[]) {
    for (const a of agents) this.byName.set(a.name, a);
  }

  agents(): Agent[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  agent(name: string): Agent | undefined {
    return this.byName.get(name);
  }

  /** Every `agent.action` name, for suggestions. */
  actionNames(): string[] {
    return this.agents().flatMap((a) => Object.keys(a.actions).map((n) => `${a.name}.${n}`));
  }

  /** Every key a probe may use: `http` (an agent's default probe) or `agent.probe`. */
  probeKeys(): string[] {
    return this.agents().flatMap((a) => [
      ...(a.defaultProbe ? [a.name] : []),
      ...Object.keys(a.probes).map((n) => `${a.name}.${n}`),
    ]);
  }

  /** @throws ChaosError("invalid") naming the known actions when `ref` is unknown. */
  action(ref: string): { agent: Agent; action: ActionDefinition } {
    const [agentName, actionName] = ref.split(".");
    const agent = this.byName.get(agentName ?? "");
    const action = agent?.actions[actionName ?? ""];
    if (!agent || !action) {
      throw new ChaosError("invalid", `unknown action "${ref}"`, {
        hint: didYouMean(ref, this.actionNames()),
      });
    }
    return { agent, action };
  }

  /** @throws ChaosError("invalid") naming the known probe keys when `key` is unknown. */
  probe(key: string): { agent: Agent; probe: ProbeDefinition } {
    const [agentName, probeName] = key.split(".");
    const agent = this.byName.get(agentName ?? "");
    const name = probeName ?? agent?.defaultProbe;
    const probe = name ? agent?.probes[name] : undefined;
    if (!agent || !probe) {
      throw new ChaosError("invalid", `unknown probe "${key}"`, { hint: didYouMean(key, this.probeKeys()) });
    }
    return { agent, probe };
  }
}
