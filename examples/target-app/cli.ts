import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { prometheusConfig } from "./prometheus-config.js";
import { startStack } from "./stack.js";
import { isAlive, readState, removeState, stateFilePath, writeState } from "./state-file.js";

const DEFAULT_RUN_DIR = ".chaos/target-app";
const DEFAULT_BASE_PORT = 17000;

/**
 * `start`: runs the stack in the foreground until Ctrl-C (or `stop` from another terminal).
 * @throws Error when a stack recorded in the run directory is still running, or the stack cannot start.
 */
async function start(args: {
  fragile: string;
  basePort: number;
  rate: number;
  runDir: string;
  paymentsCpu?: number;
  paymentsNetns?: number;
}): Promise<void> {
  const runDir = resolve(args.runDir);
  const previous = readState(runDir);
  if (previous && isAlive(previous.pid)) {
    throw new Error(`a stack is already running (pid ${previous.pid}); run \`stop\` first`);
  }
  const logger = pino({ level: process.env["LOG_LEVEL"] ?? "warn" });
  const stack = await startStack({
    basePort: args.basePort,
    fragile: args.fragile.split(",").filter((item) => item.trim() !== ""),
    runDir,
    load: args.rate > 0 ? { rate: args.rate } : false,
    logger,
    ...(args.paymentsCpu !== undefined ? { paymentsCpu: args.paymentsCpu } : {}),
    ...(args.paymentsNetns !== undefined ? { paymentsNetns: { subnet: args.paymentsNetns } } : {}),
  });
  const { stop, ...addresses } = stack;
  writeState(runDir, { ...addresses, pid: process.pid, startedAt: new Date().toISOString() });
  const promFile = join(runDir, "prometheus.yml");
  writeFileSync(promFile, prometheusConfig(stack));

  const lines = [
    `target app running (${stack.fragile.length ? `fragile: ${stack.fragile.join(",")}` : "resilient"})`,
    ...(args.paymentsCpu !== undefined
      ? [`  payments limited to ${args.paymentsCpu} cores (its own cgroup)`]
      : []),
    ...(stack.paymentsNetns
      ? [
          `  payments in network namespace ${stack.paymentsNetns.name} (${stack.paymentsNetns.paymentsAddress}), reaching the gateway at ${stack.paymentsNetns.gatewayPeer}`,
          `  db       ${stack.paymentsNetns.dbUrl}`,
        ]
      : []),
    ...Object.entries(stack.urls).map(([name, url]) => `  ${name.padEnd(9)} ${url}`),
    `  toxiproxy ${stack.toxiproxyUrl}`,
    ...stack.proxies.map((p) => `  proxy ${p.name.padEnd(17)} ${p.listen} -> ${p.upstream}`),
    ...Object.entries(stack.pidFiles).map(([name, file]) => `  pid file ${name.padEnd(9)} ${file}`),
    `  state      ${stateFilePath(runDir)}`,
    `  prometheus ${promFile}`,
    "Prometheus for it (another terminal):",
    `  prometheus --config.file=${promFile} --web.listen-address=127.0.0.1:9090 --storage.tsdb.path=${join(runDir, "prometheus-data")}`,
    "Ctrl-C stops everything.",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    stop()
      .finally(() => removeState(runDir))
      .then(() => process.exit(0));
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGHUP", () => shutdown("SIGHUP"));
}

/**
 * `stop`: stops the stack started from this run directory (SIGTERM, then SIGKILL after 10 s).
 * @throws never; prints what it did.
 */
async function stopCommand(args: { runDir: string }): Promise<void> {
  const runDir = resolve(args.runDir);
  const state = readState(runDir);
  if (!state || !isAlive(state.pid)) {
    removeState(runDir);
    process.stdout.write("no target app running\n");
    return;
  }
  process.kill(state.pid, "SIGTERM");
  for (let waited = 0; waited < 10_000 && isAlive(state.pid); waited += 100) await sleep(100);
  // Its children end by themselves once the supervisor is gone (their IPC channel closes).
  if (isAlive(state.pid)) process.kill(state.pid, "SIGKILL");
  removeState(runDir);
  process.stdout.write(`target app stopped (pid ${state.pid})\n`);
}

await yargs(hideBin(process.argv))
  .scriptName("target-app")
  .option("run-dir", { type: "string", default: DEFAULT_RUN_DIR, describe: "pid files, logs and state" })
  .command(
    "start",
    "start the sample app with the embedded Toxiproxy and load, in the foreground",
    (y) =>
      y
        .option("fragile", {
          type: "string",
          default: "",
          describe: "practices to switch off: timeouts,retries,breaker,idempotency or all",
        })
        .option("base-port", {
          type: "number",
          default: DEFAULT_BASE_PORT,
          describe: "web's port; the rest follow",
        })
        .option("rate", {
          type: "number",
          default: 20,
          describe: "checkout requests per second (0 = no load)",
        })
        .option("payments-cpu", {
          type: "number",
          describe: "run payments in a cgroup of its own limited to this many cores (0.2); needs root",
        })
        .option("payments-netns", {
          type: "number",
          describe:
            "run payments in a network namespace of its own on 10.213.N.0/30 (N = this, e.g. 0), with a database stand-in; needs root",
        }),
    (argv) =>
      start({
        fragile: argv.fragile,
        basePort: argv.basePort,
        rate: argv.rate,
        runDir: argv.runDir,
        paymentsCpu: argv.paymentsCpu,
        paymentsNetns: argv.paymentsNetns,
      }),
  )
  .command("stop", "stop the app started by `start` in another terminal", {}, (argv) =>
    stopCommand({ runDir: String(argv.runDir) }),
  )
  .demandCommand(1)
  .strict()
  .fail((message, error) => {
    process.stderr.write(`${error?.message ?? message}\n`);
    process.exit(2);
  })
  .parse();
