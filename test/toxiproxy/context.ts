import { pino } from "pino";
import type { AgentContext, PreparedFault } from "../../src/agents/agent.js";
import { toxiproxyAgent } from "../../src/agents/toxiproxy/index.js";
import { RunResources } from "../../src/experiments/resources.js";

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
  const log = pino({ enabled: false });
  const resources = new RunResources(log);
  const ctx: AgentContext = {
    runId: `run${Math.random().toString(36).slice(2, 10)}`,
    log,
    signal: new AbortController().signal,
    configuration,
    secrets: {},
    resources,
  };
  return {
    ctx,
    resources,
    async inject(action, target, args = {}) {
      const prepared = await toxiproxyAgent.actions[action]!.prepare({ target, args }, ctx);
      await prepared.apply();
      return prepared;
    },
    close: () => resources.close(),
  };
}
