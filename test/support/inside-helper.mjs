// A helper for the launcher's tests: arms the dead man's switch of dist/, reports ready with its namespace,
// and on the way out appends why to the marker file given as its first argument.
import { appendFileSync, readlinkSync } from "node:fs";
import { pino } from "pino";
import { armDeadMansSwitch, readDeadline, reportReady } from "../../dist/src/agents/inside/switch.js";

const [marker] = process.argv.slice(2);
const deadline = readDeadline(process.argv[process.argv.indexOf("--deadline") + 1]);
armDeadMansSwitch({
  deadline,
  log: pino({ level: "info" }, process.stderr),
  cleanup: async (reason) => appendFileSync(marker, `${reason}\n`),
});
reportReady({ netns: readlinkSync("/proc/self/ns/net"), gid: process.getgid() });
