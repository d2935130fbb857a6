// A stand-in run for the launcher's tests: starts a helper inside the namespace of pid argv[2], prints the
// helper's pid, then waits to be killed.
import { pino } from "pino";
import { identify, launchHelper } from "../../dist/src/agents/inside/index.js";

const [pid, entry, marker, tag] = process.argv.slice(2);
const target = await identify(Number(pid));
const helper = await launchHelper({
  target,
  entry,
  args: [marker, "--tag", tag],
  deadline: Date.now() + 60_000,
  log: pino({ enabled: false }),
});
console.log(helper.pid);
setInterval(() => undefined, 1000);
