import { randomBytes } from "node:crypto";
import type { ToxicDirection } from "toxiproxy-node-client";
import type { AgentContext, PreparedFault, RevertDescription } from "../agent.js";
import type { NewToxic, ToxiproxyOps } from "./ops.js";
import { REVERT_KIND, type UndoData } from "./revert.js";
import type { Session } from "./session.js";
import type { ResolvedProxy } from "./target.js";

/** What one action will do, decided in prepare() before anything is touched. */
export interface FaultPlan {
  /** For humans: "latency 300ms ±0ms (downstream)". */
  label: string;
  proxies: ResolvedProxy[];
  toxics: { proxy: string; toxic: NewToxic }[];
  /** Proxies to disable (the `down` action). */
  disable?: string[];
}

/**
 * A toxic name unique to this run and action (`chaos-<run>-<random>-<type>-<stream>`), so that a revert
 * removes exactly what this action added and never a toxic someone else created.
 */
export function toxicNamer(ctx: AgentContext): (type: string, stream: ToxicDirection) => string {
  const id = `${ctx.runId.replace(/[^A-Za-z0-9]/g, "").slice(0, 8)}-${randomBytes(3).toString("hex")}`;
  return (type, stream) => `chaos-${id}-${type}-${stream}`;
}

/**
 * Turns a plan into a PreparedFault: its revert is complete plain data (url, proxies, toxic names, proxies
 * to create) before apply() runs. apply() creates the missing proxies, adds the toxics, disables proxies;
 * if any step fails it undoes the steps it did, newest first, then throws.
 */
export function plannedFault(
  session: Session,
  ops: ToxiproxyOps,
  plan: FaultPlan,
  ctx: AgentContext,
): PreparedFault {
  const missing = plan.proxies.filter((p) => !p.exists);
  const undo: UndoData = {
    url: session.url,
    embedded: session.embedded,
    ...(session.embedded ? { owner: process.pid } : {}),
    toxics: plan.toxics.map(({ proxy, toxic }) => ({ proxy, name: toxic.name })),
    enable: (plan.disable ?? []).filter(
      (name) => plan.proxies.find((p) => p.name === name)?.enabled !== false,
    ),
    created: missing.map((p) => p.name),
    timeoutMs: session.config.timeoutMs,
  };
  const names = plan.proxies.map((p) => p.name).join(", ");
  const revert: RevertDescription = {
    agent: "toxiproxy",
    kind: REVERT_KIND,
    description: plan.toxics.length
      ? `remove ${plan.label} from ${names}`
      : `re-enable ${names} (${plan.label})`,
    data: { ...undo },
  };

  return {
    revert,
    // One lease per proxy: another run adding toxics to it, or deleting a proxy this run created, is refused.
    locks: plan.proxies.map((p) => `toxiproxy:${session.url}:${p.name}`),
    async apply() {
      const created: string[] = [];
      const added: { proxy: string; name: string }[] = [];
      const disabled: ResolvedProxy[] = [];
      try {
        for (const proxy of missing) {
          if (await ops.createProxy(proxy)) created.push(proxy.name);
          // Someone created it since prepare(): it is not ours to delete.
          else revert.data.created = (revert.data.created as string[]).filter((n) => n !== proxy.name);
        }
        for (const { proxy, toxic } of plan.toxics) {
          await ops.addToxic(proxy, toxic);
          added.push({ proxy, name: toxic.name });
        }
        for (const name of plan.disable ?? []) {
          const proxy = plan.proxies.find((p) => p.name === name)!;
          await ops.setEnabled(proxy, false);
          disabled.push(proxy);
        }
      } catch (err) {
        await undoPartial(ops, ctx, { added, disabled, created });
        throw err;
      }
      ctx.log.info(
        { url: session.url, proxies: names, toxics: undo.toxics.map((t) => t.name) },
        `applied ${plan.label}`,
      );
      return { url: session.url, proxies: plan.proxies.map((p) => p.name), toxics: undo.toxics, created };
    },
  };
}

/** Best effort: each failure is logged and the rest still undone (the ledger entry remains for rollback). */
async function undoPartial(
  ops: ToxiproxyOps,
  ctx: AgentContext,
  done: { added: { proxy: string; name: string }[]; disabled: ResolvedProxy[]; created: string[] },
): Promise<void> {
  const attempt = async (what: string, step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message }, `could not undo ${what} after a failed apply`);
    }
  };
  for (const t of done.added.reverse())
    await attempt(`toxic ${t.name}`, () => ops.removeToxic(t.proxy, t.name));
  for (const p of done.disabled.reverse())
    await attempt(`disabling ${p.name}`, () => ops.setEnabled(p, true));
  for (const name of done.created.reverse()) await attempt(`creating ${name}`, () => ops.deleteProxy(name));
}
