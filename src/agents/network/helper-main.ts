import { readlink } from "node:fs/promises";
import type { Logger } from "pino";
import { readNetns } from "../inside/identity.js";
import { armDeadMansSwitch, reportFailure, reportReady } from "../inside/switch.js";
import { Interceptor, metricsSocketPath, toxicSpecs } from "./interceptor.js";
import { interceptRules, type NetworkPlan, packetRules } from "./plan.js";
import { addQdiscs, localTc, removeQdiscs } from "./qdisc.js";
import { addRules, localIptables, type Rule, removeTagged } from "./rules.js";

/**
 * The body of `chaos intercept` inside the target's namespace: arm the dead man's switch first (so that
 * whatever happens next is undone), start the interceptor, add the tagged rules, report ready. The switch's
 * cleanup closes the interceptor (ending every connection it holds) before it removes the rules: closed
 * after the REDIRECT rules were gone (iptables nf_tables), the target's end of a redirected connection never
 * heard of it and hung for good on a target without timeouts. A connection opened in between is refused (a
 * visible failure, as with a killed interceptor).
 */
export async function runNetworkHelper(plan: NetworkPlan, deadline: number, log: Logger): Promise<void> {
  let interceptor: Interceptor | undefined;
  armDeadMansSwitch({
    deadline,
    log,
    cleanup: async () => {
      await interceptor?.close();
      const removed = await removeTagged(plan.tag, localIptables);
      const qdiscs = plan.qdisc ? await removeQdiscs(plan.tag, localTc) : 0;
      // The interceptor's last counts, in the run's log: its /metrics socket goes with it.
      const bytes = interceptor?.metrics.totals();
      log.info({ removed, qdiscs, intercepted: interceptor?.accepted ?? 0, bytes }, "rules removed");
    },
  });
  try {
    // Rules exclude the group this helper really runs as, so its own connections are never redirected.
    const gid = process.getgid?.() ?? 0;
    const rules: Rule[] = [];
    let metrics: string | undefined;
    if (plan.intercept) {
      interceptor = new Interceptor(toxicSpecs(plan.intercept.toxics), log, plan.tag);
      rules.push(...interceptRules(plan.intercept, await interceptor.listen(), gid));
      metrics = await interceptor.serveMetrics(metricsSocketPath(plan.tag, await readNetns("self")));
    }
    if (plan.packets) rules.push(...packetRules(plan.packets, gid));
    await addRules(rules, plan.tag, localIptables);
    const shaped = plan.qdisc ? await addQdiscs(plan.qdisc, plan.tag, localTc) : [];
    log.info({ rules: rules.length, port: interceptor?.port, shaped }, "fault applied");
    reportReady({
      rules: rules.length,
      port: interceptor?.port,
      ...(metrics ? { metrics } : {}),
      ...(plan.qdisc ? { qdisc: plan.qdisc.kind, interfaces: shaped } : {}),
      netns: await readlink("/proc/self/ns/net"),
    });
  } catch (err) {
    // The run stops this helper on a failure line, which runs the cleanup above.
    log.error({ err: (err as Error).message }, "fault not applied");
    reportFailure(err);
  }
}
