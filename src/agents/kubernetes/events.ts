import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { CoreV1Event } from "@kubernetes/client-node";
import { errorMessage } from "../../experiments/errors.js";
import { redactThenCut } from "../../experiments/redact.js";
import type { AgentContext } from "../agent.js";
import type { Cluster } from "./cluster.js";
import { mapLimit } from "./concurrency.js";

/**
 * Kubernetes Events (core/v1) on every object a run touches, so that `kubectl describe pod|deployment|node`
 * and `kubectl get events` show which run did what, and when:
 *
 *   apply ─▶ fault live ─▶ ChaosFaultApplied (Normal)      revert ─▶ ChaosFaultReverted (Normal)
 *                                                                 └▶ ChaosFaultRevertFailed (Warning)
 *
 * Best effort and bounded: one attempt per Event, at most EVENTS_PER_FAULT objects, every Event of one
 * fault within EVENTS_DEADLINE_MS together, and after the first failure (a 403 where the account may not create events, a timeout) the run
 * records none: it never changes a verdict and never holds a revert up for longer than that deadline.
 */

export const REASONS = {
  applied: "ChaosFaultApplied",
  reverted: "ChaosFaultReverted",
  revertFailed: "ChaosFaultRevertFailed",
} as const;

/** The Events' source and reporting controller. */
export const COMPONENT = "chaoskit";
/** How long the Events of one fault (one per object) may take together. */
export const EVENTS_DEADLINE_MS = 3000;
/** Objects per fault that get an Event: a kill of a thousand pods records a hundred, not a thousand. */
export const EVENTS_PER_FAULT = 100;
const CONCURRENCY = 8;
const MESSAGE_MAX = 1024;

/** What an Event is about, as `kubectl describe` matches it (kind, namespace, name and uid). */
export interface InvolvedObject {
  kind: "Pod" | "Deployment" | "StatefulSet" | "Node";
  apiVersion: "v1" | "apps/v1";
  name: string;
  /** Absent for a node: its Events live in the "default" namespace, as the kubelet's do. */
  namespace?: string;
  uid?: string;
}

export const podObject = (p: { namespace: string; name: string; uid?: string }): InvolvedObject => ({
  kind: "Pod",
  apiVersion: "v1",
  namespace: p.namespace,
  name: p.name,
  ...(p.uid ? { uid: p.uid } : {}),
});

export const nodeObject = (name: string, uid?: string): InvolvedObject => ({
  kind: "Node",
  apiVersion: "v1",
  name,
  ...(uid ? { uid } : {}),
});

interface RunEvents {
  /** Why Events stopped being recorded in this run, once they did. */
  stopped?: string;
}

/** A unique name, as client-go's recorder makes one: the object's name and a hex stamp. */
function eventName(object: string): string {
  const stamp = `${Date.now().toString(16)}${randomBytes(4).toString("hex")}`;
  return `${object.slice(0, 253 - stamp.length - 1)}.${stamp}`;
}

/** "chaoskit run r1 (experiment "Checkout survives"): <what>", without secrets and cut to a size. */
function messageOf(ctx: AgentContext, what: string): string {
  return redactThenCut(`chaoskit run ${ctx.runId} (experiment "${ctx.experiment}"): ${what}`, MESSAGE_MAX);
}

export function eventBody(
  o: InvolvedObject,
  reason: string,
  message: string,
  type: "Normal" | "Warning",
): CoreV1Event {
  const now = new Date();
  const namespace = o.namespace ?? "default";
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: eventName(o.name), namespace },
    involvedObject: {
      kind: o.kind,
      apiVersion: o.apiVersion,
      name: o.name,
      ...(o.namespace ? { namespace: o.namespace } : {}),
      ...(o.uid ? { uid: o.uid } : {}),
    },
    reason,
    message,
    type,
    source: { component: COMPONENT, host: hostname() },
    reportingComponent: COMPONENT,
    reportingInstance: hostname(),
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

/**
 * Records one Event per object, best effort (see above).
 * @returns a note for the journal when this is where the run's Events stopped (logged once to run.log),
 * else undefined. Never throws.
 */
export async function recordEvents(
  c: Cluster,
  ctx: AgentContext,
  objects: readonly InvolvedObject[],
  event: { reason: string; what: string; type?: "Normal" | "Warning" },
): Promise<string | undefined> {
  if (objects.length === 0) return undefined;
  const state = await ctx.resources.use<RunEvents>(
    `kubernetes-events:${c.ref.server}`,
    async () => ({}),
    async () => {},
  );
  if (state.stopped || ctx.signal.aborted) return undefined;
  const message = messageOf(ctx, event.what);
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(EVENTS_DEADLINE_MS)]);
  if (objects.length > EVENTS_PER_FAULT) {
    ctx.log.info({ objects: objects.length, recorded: EVENTS_PER_FAULT }, "Events only on the first objects");
  }
  try {
    await mapLimit(objects.slice(0, EVENTS_PER_FAULT), CONCURRENCY, async (o) => {
      if (state.stopped) return;
      const body = eventBody(o, event.reason, message, event.type ?? "Normal");
      const namespace = body.metadata!.namespace!;
      await c.call(
        { verb: "create", resource: "events", namespace },
        signal,
        (opts) => c.core.createNamespacedEvent({ namespace, body }, opts),
        undefined,
        1,
      );
    });
    return undefined;
  } catch (err) {
    if (state.stopped) return undefined;
    const why = signal.aborted && !ctx.signal.aborted ? `no answer within ${EVENTS_DEADLINE_MS} ms` : "";
    state.stopped = redactThenCut(why || errorMessage(err), 300);
    const note = `Kubernetes Events not recorded (${state.stopped}); the run goes on without them`;
    ctx.log.warn({ reason: event.reason }, note);
    return note;
  }
}
