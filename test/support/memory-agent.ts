import { readdirSync } from "node:fs";
import type { Agent } from "../../src/agents/agent.js";
import { ChaosError, NoAnswerError } from "../../src/experiments/errors.js";

/**
 * An agent whose target is an in-memory set of "faults", so controller tests can see exactly what is live
 * and script failures (apply, revert, probe) without a real system.
 */
export function memoryAgent(opts: { ledgerDir?: string } = {}) {
  const live = new Set<string>();
  const state = {
    live,
    /** Ledger files seen at the moment each fault was applied. */
    ledgerAtApply: [] as number[],
    applyOrder: [] as string[],
    revertFailures: 0,
    gauge: 0 as unknown,
    gaugeAfter: [] as unknown[],
    /** Called when `recovery-hangs` starts hanging: a test aborts the run from here, at a known moment. */
    onHang: undefined as (() => void) | undefined,
  };
  const agent: Agent = {
    name: "memory",
    description: "in-memory faults for controller tests",
    actions: {
      poke: {
        name: "poke",
        description: "an action that leaves nothing to revert, like a kill",
        args: { type: "object" },
        async prepare() {
          return { apply: async () => state.applyOrder.push("poke") };
        },
      },
      fault: {
        name: "fault",
        description: "add a fault id to the live set",
        target: {
          type: "object",
          properties: { id: { type: "string" } },
          required: ["id"],
          additionalProperties: false,
        },
        args: {
          type: "object",
          additionalProperties: false,
          properties: {
            failApply: { type: "boolean" },
            applyMs: { type: "number" },
            lateMs: { type: "number" },
            refine: { type: "boolean" },
            secret: { type: "string" },
            lock: { type: "string", description: "a lease key the fault holds while live" },
          },
        },
        async prepare(input, ctx) {
          const id = String(input.target.id);
          const revert = {
            agent: "memory",
            kind: "remove",
            description: `remove ${id}`,
            data: { id } as Record<string, unknown>,
          };
          return {
            revert,
            ...(input.args.lock ? { locks: [String(input.args.lock)] } : {}),
            async apply() {
              if (input.args.refine) revert.data.refined = true;
              if (input.args.lateMs) {
                // An apply that ignores the abort signal and lands late, like a slow remote API call.
                await new Promise((resolve) => setTimeout(resolve, Number(input.args.lateMs)));
              }
              if (opts.ledgerDir)
                state.ledgerAtApply.push(
                  readdirSync(opts.ledgerDir).filter((f) => f.endsWith(".json")).length,
                );
              live.add(id);
              state.applyOrder.push(id);
              if (input.args.applyMs) {
                await new Promise<void>((resolve) => {
                  const t = setTimeout(resolve, Number(input.args.applyMs));
                  ctx.signal.addEventListener("abort", () => {
                    clearTimeout(t);
                    resolve();
                  });
                });
              }
              if (input.args.failApply) throw new ChaosError("agent", `apply of ${id} failed half-way`);
              return { id, secret: input.args.secret };
            },
          };
        },
      },
    },
    probes: {
      gauge: {
        name: "gauge",
        description: "the test's gauge value",
        args: { type: "object" },
        async run() {
          const recovering = state.applyOrder.length > 0 && live.size === 0;
          const v = recovering && state.gaugeAfter.length ? state.gaugeAfter.shift() : state.gauge;
          return { value: v, summary: `gauge ${String(v)}` };
        },
      },
      broken: {
        name: "broken",
        description: "a probe whose backend is gone",
        args: { type: "object" },
        async run() {
          throw new ChaosError("agent", "backend unreachable");
        },
      },
      "blind-while-faulted": {
        name: "blind-while-faulted",
        description: "a monitoring backend that goes down once a fault is live",
        args: { type: "object" },
        async run() {
          if (live.size > 0) throw new ChaosError("agent", "backend answered 500");
          return { value: 0 };
        },
      },
      "blind-after-revert": {
        name: "blind-after-revert",
        description: "a monitoring backend that goes down once the faults are reverted",
        args: { type: "object" },
        async run() {
          const recovering = state.applyOrder.length > 0 && live.size === 0;
          if (recovering) throw new ChaosError("agent", "backend answered 500");
          return { value: 0 };
        },
      },
      silent: {
        name: "silent",
        description: "a system under test that does not answer",
        args: { type: "object" },
        async run() {
          throw new NoAnswerError("GET http://127.0.0.1/ failed: timed out after 1ms");
        },
      },
      "recovery-hangs": {
        name: "recovery-hangs",
        description: "answers 0 until the faults are reverted, then hangs until its check is cut short",
        args: { type: "object" },
        async run(_args, ctx) {
          const recovering = state.applyOrder.length > 0 && live.size === 0;
          if (!recovering) return { value: 0 };
          await new Promise<void>((resolve) => {
            ctx.signal.addEventListener("abort", () => resolve(), { once: true });
            state.onHang?.();
          });
          throw new ChaosError("agent", "probe cut short");
        },
      },
      faults: {
        name: "faults",
        description: "how many faults are live",
        args: { type: "object" },
        async run() {
          return { value: live.size };
        },
      },
    },
    async revert(r) {
      if (state.revertFailures > 0) {
        state.revertFailures--;
        throw new ChaosError("agent", "revert refused");
      }
      // Like the toxiproxy agent: a fault someone else removed meanwhile is undone, and said to have vanished.
      if (!live.delete(String(r.data.id)))
        return { note: `${String(r.data.id)} was already gone`, vanished: true };
      return undefined;
    },
  };
  return { agent, state };
}
