import { runTool } from "../inside/preflight.js";

/**
 * iptables rules a fault adds, each tagged with a comment `chaos:<tag>` (the tag starts with the run id), so
 * that they can be told from everyone else's and removed exactly, by the helper that added them or by
 * `chaos rollback` from outside the namespace.
 */

/** Runs `iptables <args>` in some namespace; returns its stdout. */
export type Iptables = (args: string[]) => Promise<string>;

/** iptables in the namespace this process is in (the helper's). */
export const localIptables: Iptables = (args) =>
  runTool([args[0] === "save" ? "iptables-save" : "iptables", ...args.slice(args[0] === "save" ? 1 : 0)]);

/** iptables in the network namespace of `pid`, entered with nsenter (for reverts from outside). */
export const iptablesIn =
  (pid: number): Iptables =>
  (args) =>
    runTool([
      "nsenter",
      `--net=/proc/${pid}/ns/net`,
      "--",
      args[0] === "save" ? "iptables-save" : "iptables",
      ...args.slice(args[0] === "save" ? 1 : 0),
    ]);

export const commentOf = (tag: string) => `chaos:${tag}`;

/** A rule: the table, and the arguments after `-A` (chain first), without the tag. */
export interface Rule {
  table: "nat" | "filter";
  spec: string[];
}

/** Splits an iptables-save line into arguments, honouring its double quotes. */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line))
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]!);
  return out;
}

/** The rules tagged `tag` in iptables-save output, as `-D` arguments per table. */
export function taggedRules(saved: string, tag: string): { table: string; args: string[] }[] {
  const comment = commentOf(tag);
  const out: { table: string; args: string[] }[] = [];
  let table = "";
  for (const line of saved.split("\n")) {
    if (line.startsWith("*")) table = line.slice(1).trim();
    if (!line.startsWith("-A ")) continue;
    const args = splitRule(line);
    const at = args.indexOf("--comment");
    if (at < 0 || args[at + 1] !== comment) continue;
    out.push({ table, args: ["-D", ...args.slice(1)] });
  }
  return out;
}

/**
 * Adds the rules in order, each tagged. A rule that fails stops the rest; the caller removes the tagged
 * rules already added.
 * @throws ChaosError("agent") with iptables' message.
 */
export async function addRules(rules: Rule[], tag: string, iptables: Iptables): Promise<void> {
  for (const r of rules) {
    // Inserted first in the chain: a fault applies whatever rules the namespace already has.
    const [chain, ...rest] = r.spec;
    await iptables([
      "-w",
      "5",
      "-t",
      r.table,
      "-I",
      chain!,
      "1",
      ...rest,
      "-m",
      "comment",
      "--comment",
      commentOf(tag),
    ]);
  }
}

/**
 * Removes every rule tagged `tag` in every table, and only those. Idempotent.
 * @returns how many rules it removed.
 * @throws ChaosError("agent") when iptables fails.
 */
export async function removeTagged(tag: string, iptables: Iptables): Promise<number> {
  const rules = taggedRules(await iptables(["save"]), tag);
  for (const r of rules) await iptables(["-w", "5", "-t", r.table, ...r.args]);
  return rules.length;
}

/** How many rules tagged `tag` the namespace holds. */
export async function countTagged(tag: string, iptables: Iptables): Promise<number> {
  return taggedRules(await iptables(["save"]), tag).length;
}
