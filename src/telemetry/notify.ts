import { createHmac } from "node:crypto";
import { sleep } from "../experiments/clock.js";
import { errorMessage } from "../experiments/errors.js";
import type { RunEvent } from "../experiments/events.js";
import type { Journal } from "../experiments/journal.js";
import type { Experiment } from "../experiments/model.js";
import { outputRedactor } from "../experiments/redact.js";
import { requestParts, shownUrl } from "./metrics-config.js";

/** A notification target with its secret read: what a run sends to. */
export type Recipient = { webhook: string; secret?: string } | { slack: string; reportUrl?: string };

/** What a run tells: `run.started`, `fault.applied`, `stop-condition.fired`, `run.aborted`, `run.verdict`. */
export interface Notice {
  event: "run.started" | "fault.applied" | "stop-condition.fired" | "run.aborted" | "run.verdict";
  runId: string;
  experiment: { title: string; file: string };
  at: string;
  fault?: { step: string; action: string; description: string };
  stopCondition?: { name: string; reason: string };
  reason?: string;
  verdict?: { status: string; exitCode: number; score?: number; reasons: string[]; faults: string[] };
}

const ATTEMPTS = 3;
const BACKOFF_MS = [250, 1_000];

/**
 * Tells webhooks of a run's events. Each recipient has its own queue, so that its notices arrive in order
 * and a dead one holds up no other; each request may take `timeoutMs`, and fails over to a retry (at most
 * three attempts, 250 ms then 1 s apart) on a network error, a 5xx or a 429. Nothing here is awaited while
 * the run goes on: `end` waits for what is left at most `timeoutMs`, then gives up and says what was lost.
 * Every text sent passes the redactor, and a Slack URL or a signing secret never appears in a log or note.
 */
export class RunNotifier {
  private readonly queues: { recipient: Recipient; shown: string; tail: Promise<void>; lost: string[] }[];
  private readonly closing = new AbortController();
  private sent = 0;

  constructor(
    recipients: Recipient[],
    private readonly experiment: Experiment,
    private readonly runId: string,
    private readonly timeoutMs: number,
  ) {
    for (const r of recipients) {
      if ("slack" in r) outputRedactor.addSecret(slackToken(r.slack));
      else if (r.secret) outputRedactor.addSecret(r.secret);
    }
    this.queues = recipients.map((recipient) => ({
      recipient,
      // A Slack incoming webhook's path is its credential: only its origin is shown.
      shown: "slack" in recipient ? slackShown(recipient.slack) : shownUrl(recipient.webhook),
      tail: Promise.resolve(),
      lost: [],
    }));
  }

  started(): void {
    this.send({ event: "run.started" });
  }

  onEvent(e: RunEvent): void {
    if (e.type === "fault-applied")
      this.send({
        event: "fault.applied",
        fault: { step: e.fault.step, action: e.fault.ref, description: e.fault.description },
      });
    else if (e.type === "abort") this.send({ event: "run.aborted", reason: e.reason });
    else if (
      e.type === "probe" &&
      e.record.phase === "stop-when" &&
      !e.record.ok &&
      e.record.reason.startsWith("stop condition met")
    )
      this.send({
        event: "stop-condition.fired",
        stopCondition: { name: e.record.probe, reason: e.record.reason },
      });
  }

  /**
   * Sends the verdict (or the reason there is none) and waits at most `timeoutMs` for every queue.
   * @returns what could not be delivered, one line per recipient.
   */
  async end(outcome: Journal | { error: string }): Promise<string[]> {
    if ("error" in outcome) this.send({ event: "run.aborted", reason: outcome.error });
    else
      this.send({
        event: "run.verdict",
        verdict: {
          status: outcome.status,
          exitCode: outcome.exitCode,
          ...(outcome.score === undefined ? {} : { score: outcome.score }),
          reasons: outcome.reasons,
          faults: outcome.faults.map((f) => f.description),
        },
      });
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      Promise.all(this.queues.map((q) => q.tail)).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (!done) {
      this.closing.abort();
      await Promise.all(this.queues.map((q) => q.tail));
    }
    return this.queues
      .filter((q) => q.lost.length)
      .map(
        (q) => `notifications: ${q.lost.length} of ${this.sent} to ${q.shown} not delivered: ${q.lost[0]}`,
      );
  }

  private send(part: Partial<Notice> & Pick<Notice, "event">): void {
    this.sent++;
    const notice: Notice = {
      runId: this.runId,
      experiment: { title: this.experiment.title, file: this.experiment.file },
      at: new Date().toISOString(),
      ...part,
    };
    for (const q of this.queues) {
      const body = outputRedactor.text(
        JSON.stringify("slack" in q.recipient ? slackMessage(notice, q.recipient.reportUrl) : notice),
      );
      q.tail = q.tail.then(async () => {
        const why = await this.deliver(q.recipient, body);
        if (why) q.lost.push(outputRedactor.text(why));
      });
    }
  }

  /** Posts one body, with retries; returns why it was not delivered, or undefined. */
  private async deliver(recipient: Recipient, body: string): Promise<string | undefined> {
    const url = "slack" in recipient ? recipient.slack : recipient.webhook;
    let why = "";
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (this.closing.signal.aborted) return why || "given up at the end of the run";
      if (attempt > 0) await sleep(BACKOFF_MS[attempt - 1]!, this.closing.signal);
      try {
        const parts = requestParts(url);
        const headers: Record<string, string> = { ...parts.headers, "content-type": "application/json" };
        if ("webhook" in recipient && recipient.secret !== undefined)
          headers["x-chaos-signature"] =
            `sha256=${createHmac("sha256", recipient.secret).update(body).digest("hex")}`;
        const res = await fetch(parts.url, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.closing.signal]),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return undefined;
        why = `HTTP ${res.status}`;
        if (res.status < 500 && res.status !== 429) return why;
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause;
        why = this.closing.signal.aborted
          ? `no answer within ${this.timeoutMs} ms`
          : `${errorMessage(err)}${cause?.code ? ` (${cause.code})` : ""}`;
      }
    }
    return why;
  }
}

/** The part of a Slack incoming webhook's URL that is its credential: all but the origin. */
function slackToken(url: string): string {
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

function slackShown(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return "(an invalid URL)";
  }
}

const MARK: Record<string, string> = {
  held: ":white_check_mark:",
  completed: ":white_check_mark:",
  deviated: ":x:",
  "not-steady": ":warning:",
  unobserved: ":warning:",
  aborted: ":octagonal_sign:",
  error: ":boom:",
};

/** A Slack incoming webhook's message: one readable line or two per notice. */
export function slackMessage(n: Notice, reportUrl?: string): { text: string } {
  const title = `*${n.experiment.title}*`;
  switch (n.event) {
    case "run.started":
      return { text: `:test_tube: Chaos run started: ${title} (run ${n.runId})` };
    case "fault.applied":
      return { text: `:zap: ${title}: fault applied by \`${n.fault?.action}\`: ${n.fault?.description}` };
    case "stop-condition.fired":
      return { text: `:octagonal_sign: ${title}: stop condition "${n.stopCondition?.name}" fired` };
    case "run.aborted":
      return { text: `:octagonal_sign: ${title}: run aborted: ${n.reason}` };
    case "run.verdict": {
      const v = n.verdict!;
      const lines = [
        `${MARK[v.status] ?? ":grey_question:"} ${title}: *${v.status}*${v.score === undefined ? "" : ` (score ${v.score}%)`}, exit ${v.exitCode}`,
        ...(v.faults.length ? [`Faults: ${v.faults.join("; ")}`] : []),
        ...(v.reasons.length ? [`Why: ${v.reasons.slice(0, 3).join("; ")}`] : []),
        ...(reportUrl ? [`Report: ${reportUrl.replace(/\/+$/, "")}/${n.runId}/`] : []),
      ];
      return { text: lines.join("\n") };
    }
  }
}
