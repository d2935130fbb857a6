/**
 * Faults that act *inside* a target: in its network namespace, or its cgroups. Shared by the agents that do
 * so; see ARCHITECTURE.md "Faults inside a target".
 *
 *   target block ──readInsideTarget──▶ spec ──resolveInside──▶ InsideTarget[] (pid, start time, boot,
 *                                                              netns inode, cgroups; lease keys)
 *   run ──launchHelper(target, ["<command>", …, "--tag", tag], deadline)──▶ `chaos <command>` inside the
 *       target's namespace, a dead man's switch (armDeadMansSwitch on its side)
 *   chaos rollback ──findHelpers(tag) ▶ stopHelpers──▶ helpers undo their own work; stillSame(identity)
 *       says whether the recorded namespace may be entered to undo what a killed helper left
 */

export {
  chaosEntry,
  type FoundHelper,
  findHelpers,
  HELPER_GID,
  type Helper,
  type HelperLaunch,
  launchHelper,
  stopHelpers,
  TAG_FLAG,
} from "./helper.js";
export {
  type Cgroups,
  type InsideIdentity,
  identify,
  netnsLockKey,
  readCgroups,
  readIdentity,
  readNetns,
  stillSame,
} from "./identity.js";
export { requireInsideTools, runTool, which } from "./preflight.js";
export { armDeadMansSwitch, readDeadline, reportFailure, reportReady } from "./switch.js";
export {
  byNamespace,
  describeInsideTarget,
  type InsideTarget,
  type InsideTargetSpec,
  insideTargetSchema,
  listeningInodesAnywhere,
  readInsideTarget,
  resolveInside,
} from "./target.js";
