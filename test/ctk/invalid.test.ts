import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureCliBuilt, runCli } from "../support/cli.js";

/**
 * A Chaos Toolkit file that cannot run: `chaos run`, `chaos validate` and `chaos import` each exit 2 before
 * anything is touched, naming every problem at once at its line and column in the file as written.
 */
const BROKEN = `title: broken
steady-state-hypothesis:
  title: h
  probes:
    - type: probe
      name: no tolerance
      provider: { type: http, url: "http://127.0.0.1:9/" }
method:
  - type: action
    name: stop instance
    provider: { type: python, module: chaosaws.ec2.actions, func: stop_instances }
  - type: probe
    name: ready
    provider: { type: python, module: chaosk8s.pod.probes, func: pods_in_conditions, arguments: { label_selector: app=web, conditions: [{ type: Ready, status: true }] } }
  - ref: nowhere
  - type: action
    name: drain
    provider: { type: python, module: chaosk8s.node.actions, func: drain_nodes }
rollbacks:
  - type: action
    name: weird
    provider: { type: ftp }
`;

const EXPECTED = [
  /broken\.yaml:5:7: .*hypothesis probe must have a tolerance entry/,
  /broken\.yaml:11:\d+: .*python provider chaosaws\.ec2\.actions\.stop_instances has no equivalent/,
  /broken\.yaml:14:\d+: .*chaosk8s\.pod\.probes\.pods_in_conditions: conditions\[0\] must be \{type, status\} with both as text/,
  /broken\.yaml:15:\d+: .*no earlier activity is named "nowhere"/,
  /broken\.yaml:18:\d+: .*python provider chaosk8s\.node\.actions\.drain_nodes has no equivalent/,
  /broken\.yaml:22:\d+: .*unknown provider type "ftp"/,
];

describe("a Chaos Toolkit file that cannot run", () => {
  let work: string;
  let file: string;

  beforeAll(async () => {
    await ensureCliBuilt();
    work = mkdtempSync(join(tmpdir(), "chaos-ctk-invalid-"));
    file = join(work, "broken.yaml");
    writeFileSync(file, BROKEN);
  }, 120_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test.each([
    ["run", ["--no-reports", "--ledger", "ledger"]],
    ["validate", []],
    ["import", ["--out", "converted.yaml"]],
  ])("chaos %s exits 2 and names every problem at its line", async (command, extra) => {
    const r = await runCli([command, file, ...extra], {
      cwd: work,
      env: { XDG_STATE_HOME: join(work, "state") },
      timeoutMs: 60_000,
    });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    for (const re of EXPECTED) expect(r.stderr + r.stdout).toMatch(re);
  });
});
