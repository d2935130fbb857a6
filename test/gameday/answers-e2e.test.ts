import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  liveFaults,
  startTargetEnvironment,
  type TargetEnvironment,
} from "../../examples/demo/environment.js";
import { freeBasePort, metricsTargetsAt } from "../../examples/demo/ports.js";
import { waitForSteadyState } from "../../examples/demo/steady.js";
import type { RunningPrometheus } from "../../examples/target-app/prometheus-server.js";
import type { GameDayRecord } from "../../src/gameday/record.js";
import { ensureCliBuilt, runCli } from "../support/cli.js";
import { describeWithPrometheus, startTestPrometheus } from "../support/prometheus.js";

/**
 * A rehearsal without a person: a runbook answered from a file, against the real sample app, a real
 * Prometheus and the embedded proxy. The team predicts one experiment right and one wrong; the record must
 * say which, the exit code must be 1, and nothing may stay injected.
 */

const ERROR_RATIO = `sum(rate(loadgen_requests_total{outcome="error"}[10s])) / sum(rate(loadgen_requests_total[10s]))`;

/** 4 s of gateway latency well inside payments' 300 ms timeout: checkout keeps working. */
const latency = (title: string) => `version: 1
title: ${title}
configuration:
  web_url: "\${env:WEB_URL}"
  prometheus: { url: "\${env:PROMETHEUS_URL}" }
  toxiproxy: { url: "\${env:TOXIPROXY_URL}" }
steady-state:
  probes:
    - name: web answers
      http: { url: "\${configuration.web_url}/healthz", timeout: 2s }
      tolerance: { status: 200 }
    - name: checkout error ratio under 5%
      prometheus: { query: '${ERROR_RATIO}' }
      tolerance: "< 0.05"
  during: { every: 1s }
  after: { within: 10s, every: 1s }
method:
  - name: 100 ms on payments → gateway answers
    action: toxiproxy.latency
    target: { proxy: payments-gateway }
    args: { latency: 100ms, stream: downstream }
    duration: 4s
`;

const RUNBOOK = `title: Rehearsal — the gateway gets slower
goal: check our predictions about a slower payment provider
roles: { facilitator: ci }
configuration:
  prometheus: { url: "\${env:PROMETHEUS_URL}" }
preconditions:
  checklist: [nobody is deploying]
  probes:
    - name: checkout error ratio under 5%
      prometheus: { query: '${ERROR_RATIO}' }
      tolerance: "< 0.05"
steps:
  - id: announce
    manual: Tell the team the rehearsal starts.
  - id: collapse
    abort-if:
      name: most checkouts fail
      probe: { prometheus: { query: '${ERROR_RATIO}' } }
      when: "> 0.9"
      every: 1s
  - id: right
    experiment: slow-a.yaml
    expect: held
  - id: seen
    observe: What did the latency panel show?
  - id: go-on
    decide: Go on with the second experiment?
  - id: wrong
    experiment: slow-b.yaml
    expect: deviated
`;

const ANSWERS = `preconditions: yes
announce: done
seen: { answer: "p99 went up by about 100 ms", by: rehearsal-bot }
go-on: go
`;

describeWithPrometheus("a GameDay answered from a file, against the sample app", () => {
  let work: string;
  let prometheus: RunningPrometheus | undefined;
  let target: TargetEnvironment | undefined;

  beforeAll(async () => {
    await ensureCliBuilt();
    work = await mkdtemp(join(tmpdir(), "chaos-gameday-e2e-"));
    const basePort = await freeBasePort();
    prometheus = await startTestPrometheus(metricsTargetsAt(basePort));
    target = await startTargetEnvironment({ fragile: [], basePort, prometheusUrl: prometheus.url });
    await writeFile(join(work, "slow-a.yaml"), latency("Checkout shrugs off 100 ms at the gateway"));
    await writeFile(
      join(work, "slow-b.yaml"),
      latency("Checkout breaks with 100 ms at the gateway (we think)"),
    );
    await writeFile(join(work, "runbook.yaml"), RUNBOOK);
    await writeFile(join(work, "answers.yaml"), ANSWERS);
  }, 180_000);

  afterAll(async () => {
    await target?.stop();
    await prometheus?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("records one prediction right and one wrong, exits 1 and leaves no fault behind", async () => {
    await waitForSteadyState(join(work, "slow-a.yaml"), {
      prometheusUrl: target!.prometheusUrl,
      timeoutMs: 60_000,
    });
    const ledger = join(work, "ledger");
    const out = join(work, "record");
    const r = await runCli(
      [
        "gameday",
        "run",
        "runbook.yaml",
        "--answers",
        "answers.yaml",
        "--ledger",
        ledger,
        "--out",
        out,
        "--log-level",
        "warn",
      ],
      { cwd: work, env: target!.env, timeoutMs: 90_000 },
    );
    const output = `${r.stdout}\n${r.stderr}`;
    expect(r.code, output).toBe(1);

    const record = JSON.parse(readFileSync(join(out, "gameday.json"), "utf8")) as GameDayRecord;
    expect(record).toMatchObject({ mode: "answers", status: "completed", exitCode: 1 });
    expect(record.timeline.map((e) => [e.step, e.status, e.by])).toEqual([
      ["preconditions", "done", userInfo().username],
      ["announce", "done", userInfo().username],
      ["collapse", "done", undefined],
      ["right", "done", undefined],
      ["seen", "done", "rehearsal-bot"],
      ["go-on", "done", userInfo().username],
      ["wrong", "done", undefined],
    ]);
    const right = record.timeline.find((e) => e.step === "right")!.experiment!;
    const wrong = record.timeline.find((e) => e.step === "wrong")!.experiment!;
    expect(right, output).toMatchObject({ expect: "held", outcome: "held", matched: true, exitCode: 0 });
    expect(wrong, output).toMatchObject({ expect: "deviated", outcome: "held", matched: false, exitCode: 0 });
    expect(record.findings).toEqual([
      { kind: "observation", step: "seen", text: "p99 went up by about 100 ms" },
      {
        kind: "surprise",
        step: "wrong",
        text: expect.stringContaining("predicted deviated, the experiment held"),
      },
    ]);
    const preconditions = record.timeline[0]!;
    expect(preconditions.journal).toBeDefined();
    expect(JSON.parse(readFileSync(join(out, preconditions.journal!), "utf8")).status).toBe("completed");
    for (const e of record.timeline) {
      expect(Date.parse(e.start)).toBeLessThanOrEqual(Date.parse(e.end));
    }

    // Each experiment's own journal and reports are linked, not copied; its stop conditions included the
    // runbook's abort-if.
    const journal = JSON.parse(readFileSync(join(out, right.journal), "utf8"));
    expect(journal.status).toBe("held");
    expect(
      journal.stopConditions.some((s: { probe: string }) => s.probe === "abort-if: most checkouts fail"),
    ).toBe(true);
    for (const report of right.reports) expect(existsSync(join(out, report.path)), report.path).toBe(true);
    const md = readFileSync(join(out, "gameday.md"), "utf8");
    expect(md).toContain(`[html](${wrong.reports.find((p) => p.format === "html")!.path})`);
    expect(md).toContain("## Action items");

    expect(await liveFaults(target!.stack.toxiproxyUrl), "faults left on the proxy").toEqual([]);
    const pending = existsSync(ledger) ? readdirSync(ledger).filter((f) => f.endsWith(".json")) : [];
    expect(pending, "faults left in the ledger").toEqual([]);
  }, 150_000);
});
