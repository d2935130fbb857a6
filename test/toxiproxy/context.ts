import type { AgentContext, PreparedFault } from "../../src/agents/agent.js";
import { toxiproxyAgent } from "../../src/agents/toxiproxy/index.js";
import type { RunResources } from "../../src/experiments/resources.js";
import { testContext } from "../support/agent-context.js";

export interface TestRun {
  ctx: AgentContext;
  resources: RunResources;
  /** Prepares and applies `agent.action`; returns the prepared fault (its revert is plain data). */
  inject(
    action: string,
    target: Record<string, unknown>,
    args?: Record<string, unknown>,
  ): Promise<PreparedFault>;
  close(): Promise<void>;
}

/** An agent context as the controller builds one: a run id, a silent logger, run-scoped resources. */
export function testRun(configuration: Record<string, unknown>): TestRun {
  const ctx = testContext({ configuration });
  return {
    ctx,
    resources: ctx.resources as RunResources,
    async inject(action, target, args = {}) {
      const prepared = await toxiproxyAgent.actions[action]!.prepare({ target, args }, ctx);
      await prepared.apply();
      return prepared;
    },
    close: () => ctx.dispose(),
  };
}
