import type { ActionDefinition } from "../agent.js";

/**
 * Gives an action the `targets` that `chaos plan` prints, read from what its own `prepare` would lock:
 * prepare touches nothing, so the plan shows exactly the objects a run would touch ("pod/shop/web-1").
 */
export function withTargets(action: ActionDefinition): ActionDefinition {
  return {
    ...action,
    async targets(input, ctx) {
      const { locks = [] } = await action.prepare(input, ctx);
      // "kubernetes:<server>:pod/shop/web-1" → "pod/shop/web-1"; the server URL itself contains colons.
      return locks.map((key) => key.slice(key.lastIndexOf(":") + 1));
    },
  };
}
