import { pino } from "pino";
import type { AgentContext } from "../../src/agents/agent.js";

/** An AgentContext whose resources are really disposed by `dispose()`, as at the end of a run. */
export function testContext(
  prometheus: Record<string, unknown> = {},
): AgentContext & { dispose(): Promise<void> } {
  const created = new Map<string, { value: unknown; dispose: (value: never) => Promise<void> }>();
  return {
    runId: "test-run",
    log: pino({ level: "silent" }),
    signal: new AbortController().signal,
    configuration: { prometheus },
    secrets: {},
    resources: {
      async use<T>(key: string, create: () => Promise<T>, dispose: (value: T) => Promise<void>): Promise<T> {
        const known = created.get(key);
        if (known) return known.value as T;
        const value = await create();
        created.set(key, { value, dispose: dispose as (value: never) => Promise<void> });
        return value;
      },
    },
    async dispose() {
      for (const { value, dispose } of created.values()) await dispose(value as never);
      created.clear();
    },
  };
}
