import type { AgentContext } from "../../src/agents/agent.js";
import { testContext as agentContext } from "../support/agent-context.js";

/** An AgentContext configured for Prometheus, whose resources are really disposed by `dispose()`. */
export function testContext(
  prometheus: Record<string, unknown> = {},
): AgentContext & { dispose(): Promise<void> } {
  return agentContext({ configuration: { prometheus } });
}
