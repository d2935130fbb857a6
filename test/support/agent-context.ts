import { pino } from "pino";
import type { AgentContext } from "../../src/agents/agent.js";
import { RunResources } from "../../src/experiments/resources.js";

/**
 * An agent context as the controller builds one — a run id, a silent logger, run-scoped resources — for
 * agent tests. `dispose()` closes the resources, as the end of a run does.
 */
export function testContext(
  overrides: Partial<AgentContext> = {},
): AgentContext & { dispose(): Promise<void> } {
  const log = pino({ enabled: false });
  const resources = new RunResources(log);
  return {
    runId: `run${Math.random().toString(36).slice(2, 10)}`,
    experiment: "an agent test",
    log,
    signal: new AbortController().signal,
    configuration: {},
    secrets: {},
    resources,
    ...overrides,
    dispose: () => resources.close(),
  };
}
