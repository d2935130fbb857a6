import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";

/** One service process to keep running. */
export interface ServiceProcess {
  name: string;
  /** The compiled service entry, run with this Node binary. */
  script: string;
  env: Record<string, string>;
  /** A cgroup each process of the service is moved into as it starts (a CPU limit), before its pid is told. */
  cgroup?: { add(pid: number): Promise<void> };
  /** A network namespace (its path) the service runs in, entered with nsenter (which keeps the pid). */
  netns?: string;
}

export interface SupervisorOptions {
  /** pid files go to `<runDir>/pids/<name>.pid`, output to `<runDir>/logs/<name>.log`. */
  runDir: string;
  log: Logger;
  /** Wait before the first restart; doubles while a service keeps crashing, up to 5 s. */
  restartDelayMs?: number;
}

interface Entry {
  spec: ServiceProcess;
  child?: ChildProcess;
  exited?: Promise<void>;
  restartTimer?: NodeJS.Timeout;
  crashes: number;
  startedAt: number;
  restarts: number;
}

/** A service that lived this long before it died was healthy: its next restart is quick again. */
const HEALTHY_AFTER_MS = 10_000;
const MAX_RESTART_DELAY_MS = 5000;
const STOP_GRACE_MS = 3000;

/**
 * Keeps service processes running as an orchestrator would: restarts each one when it exits, and writes its
 * current pid to `<runDir>/pids/<name>.pid` (so a process fault can target a service by pid file).
 *
 * No orphans: stop() ends every child (even one waiting to be restarted); the process 'exit' hook kills
 * them if the host exits without stop(); and each child ends itself when its IPC channel to the supervisor
 * closes, which also covers a supervisor killed with SIGKILL.
 */
export class Supervisor {
  private readonly entries = new Map<string, Entry>();
  private stopping = false;
  private readonly restartDelayMs: number;
  private readonly killAllNow = () => {
    for (const entry of this.entries.values()) entry.child?.kill("SIGKILL");
  };

  constructor(private readonly opts: SupervisorOptions) {
    this.restartDelayMs = opts.restartDelayMs ?? 100;
    mkdirSync(join(opts.runDir, "pids"), { recursive: true });
    mkdirSync(join(opts.runDir, "logs"), { recursive: true });
    process.on("exit", this.killAllNow);
  }

  /** Where the pid of a service is written. Never throws. */
  pidFile(name: string): string {
    return join(this.opts.runDir, "pids", `${name}.pid`);
  }

  /** The pid of the service's current process, if it is running. Never throws. */
  pid(name: string): number | undefined {
    return this.entries.get(name)?.child?.pid;
  }

  /** How many times the service was restarted. Never throws. */
  restarts(name: string): number {
    return this.entries.get(name)?.restarts ?? 0;
  }

  /**
   * Starts a service and keeps it running.
   * @throws Error when the supervisor is stopping or a service of that name is already supervised.
   */
  start(spec: ServiceProcess): void {
    if (this.stopping) throw new Error(`supervisor is stopping; cannot start ${spec.name}`);
    if (this.entries.has(spec.name)) throw new Error(`service ${spec.name} is already supervised`);
    const entry: Entry = { spec, crashes: 0, startedAt: 0, restarts: 0 };
    this.entries.set(spec.name, entry);
    this.spawn(entry);
  }

  /** Stops every service (SIGTERM, then SIGKILL after 3 s) and cancels pending restarts. Never throws. */
  async stop(): Promise<void> {
    this.stopping = true;
    const waits: Promise<void>[] = [];
    for (const entry of this.entries.values()) {
      clearTimeout(entry.restartTimer);
      const { child, exited } = entry;
      if (!child || !exited || child.exitCode !== null || child.signalCode !== null) continue;
      child.kill("SIGTERM");
      const force = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      waits.push(exited.finally(() => clearTimeout(force)));
    }
    await Promise.all(waits);
    for (const name of this.entries.keys()) rmSync(this.pidFile(name), { force: true });
    process.off("exit", this.killAllNow);
  }

  private spawn(entry: Entry): void {
    const { spec } = entry;
    const logFd = openSync(join(this.opts.runDir, "logs", `${spec.name}.log`), "a");
    let child: ChildProcess;
    try {
      const argv = [process.execPath, spec.script];
      const [file, ...args] = spec.netns ? ["nsenter", `--net=${spec.netns}`, ...argv] : argv;
      child = spawn(file!, args, {
        env: spec.env,
        stdio: ["ignore", logFd, logFd, "ipc"],
      });
    } finally {
      closeSync(logFd);
    }
    entry.child = child;
    entry.startedAt = Date.now();
    entry.exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        resolve();
        this.onExit(entry, child, code, signal);
      });
      // A process that could not be spawned emits 'error' and never 'exit'.
      child.once("error", (error) => {
        this.opts.log.error({ service: spec.name, err: error }, "service process error");
        if (child.pid === undefined) resolve();
      });
    });
    const pid = child.pid;
    if (pid === undefined) return;
    if (!spec.cgroup) {
      this.writePid(spec.name, pid);
      this.opts.log.info({ service: spec.name, pid }, "service started");
      return;
    }
    // A service that cannot be put under its limit would run unlimited: stopped (and restarted) instead.
    spec.cgroup.add(pid).then(
      () => {
        this.writePid(spec.name, pid);
        this.opts.log.info({ service: spec.name, pid, cgroup: true }, "service started");
      },
      (error: unknown) => {
        this.opts.log.error({ service: spec.name, err: error }, "cannot move the service into its cgroup");
        child.kill("SIGKILL");
      },
    );
  }

  private onExit(
    entry: Entry,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (entry.child !== child || this.stopping) return;
    const lived = Date.now() - entry.startedAt;
    entry.crashes = lived >= HEALTHY_AFTER_MS ? 0 : entry.crashes + 1;
    const delay = Math.min(MAX_RESTART_DELAY_MS, this.restartDelayMs * 2 ** Math.max(0, entry.crashes - 1));
    this.opts.log.warn({ service: entry.spec.name, code, signal, restartInMs: delay }, "service exited");
    entry.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      entry.restarts++;
      this.spawn(entry);
    }, delay);
  }

  private writePid(name: string, pid: number): void {
    // Write then rename, so a reader never sees a half-written pid.
    const file = this.pidFile(name);
    writeFileSync(`${file}.tmp`, `${pid}\n`);
    renameSync(`${file}.tmp`, file);
  }
}
