import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { ChaosError } from "../../experiments/errors.js";

/** Where a program is on PATH (plus the sbin folders, which a non-login root shell may lack), if anywhere. */
export async function which(program: string, path = process.env.PATH ?? ""): Promise<string | undefined> {
  const dirs = [...path.split(delimiter), "/usr/sbin", "/sbin", "/usr/bin", "/bin"].filter(Boolean);
  for (const dir of dirs) {
    const file = join(dir, program);
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Checks, touching nothing, that faults inside targets can be applied and reverted here: Linux, root (entering
 * another process's namespace and changing its rules needs CAP_SYS_ADMIN and CAP_NET_ADMIN), and every
 * program in `programs`.
 * @throws ChaosError("agent") naming everything that is missing, with how to get it.
 */
export async function requireInsideTools(what: string, programs: string[]): Promise<void> {
  const missing: string[] = [];
  if (process.platform !== "linux") missing.push(`Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) missing.push("root privileges (CAP_SYS_ADMIN, CAP_NET_ADMIN)");
  const found = await Promise.all(programs.map((p) => which(p)));
  programs.forEach((p, i) => {
    if (!found[i]) missing.push(`\`${p}\``);
  });
  if (missing.length > 0) {
    throw new ChaosError("agent", `${what} needs ${missing.join(", ")}: nothing was touched`, {
      hint: "run chaos as root on the machine of the target, with iptables, iproute2 (ip, tc) and util-linux (nsenter) installed",
    });
  }
}

/**
 * Runs a program to its end, bounded in time, and returns its stdout.
 * @throws ChaosError("agent") with its stderr when it fails or does not end within `timeoutMs`.
 */
export function runTool(argv: string[], timeoutMs = 10_000): Promise<string> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(file!, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = stderr.trim() || err.message;
      reject(new ChaosError("agent", `${argv.slice(0, 4).join(" ")} failed: ${why}`, { cause: err }));
    });
  });
}
