import { readlink } from "node:fs/promises";
import type { Logger } from "pino";
import { armDeadMansSwitch, reportFailure, reportReady } from "../inside/switch.js";
import { Interceptor, toxicSpecs } from "./interceptor.js";
import { interceptRules, type NetworkPlan, packetRules } from "./plan.js";
import { addQdiscs, localTc, removeQdiscs } from "./qdisc.js";
import { addRules, localIptables, type Rule, removeTagged } from "./rules.js";

/**
 * The body of `chaos intercept` inside the target's namespace: arm the dead man's switch first (so that
 * whatever happens next is undone), start the interceptor, add the tagged rules, report ready. The switch's
 * cleanup removes the rules before it closes the interceptor, so no new connection meets a closed port.
 */
export async function runNetworkHelper(plan: NetworkPlan, deadline: number, log: Logger): Promise<void> {
  let interceptor: Interceptor | undefined;
  armDeadMansSwitch({
    deadline,
    log,
    cleanup: async () => {
      const removed = await removeTagged(plan.tag, localIptables);
      const qdiscs = plan.qdisc ? await removeQdiscs(plan.tag, localTc) : 0;
      await interceptor?.close();
      log.info({ removed, qdiscs, intercepted: interceptor?.accepted ?? 0 }, "rules removed");
    },
  });
  try {
    // Rules exclude the group this helper really runs as, so its own connections are never redirected.
    const gid = process.getgid?.() ?? 0;
    const rules: Rule[] = [];
    if (plan.intercept) {
      interceptor = new Interceptor(toxicSpecs(plan.intercept.toxics), log);
      rules.push(...interceptRules(plan.intercept, await interceptor.listen(), gid));
    }
    if (plan.packets) rules.push(...packetRules(plan.packets, gid));
    await addRules(rules, plan.tag, localIptables);
    const shaped = plan.qdisc ? await addQdiscs(plan.qdisc, plan.tag, localTc) : [];
    log.info({ rules: rules.length, port: interceptor?.port, shaped }, "fault applied");
    reportReady({
      rules: rules.length,
      port: interceptor?.port,
      ...(plan.qdisc ? { qdisc: plan.qdisc.kind, interfaces: shaped } : {}),
      netns: await readlink("/proc/self/ns/net"),
    });
  } catch (err) {
    // The run stops this helper on a failure line, which runs the cleanup above.
    log.error({ err: (err as Error).message }, "fault not applied");
    reportFailure(err);
  }
}
