// Preloaded into `chaos run` by a test (NODE_OPTIONS=--require …): once the process named by the pid file in
// CHAOS_TEST_CRASH_WHEN_FROZEN is frozen (state T), it throws an uncaught error inside the run, so the test can
// check that the crash handler still reverts what the run applied. Nothing in the toolkit knows about it.
const { readFileSync } = require("node:fs");

const pidFile = process.env.CHAOS_TEST_CRASH_WHEN_FROZEN;
if (pidFile) {
  const timer = setInterval(() => {
    try {
      const pid = readFileSync(pidFile, "utf8").trim();
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2)[0] !== "T") return;
    } catch {
      return;
    }
    clearInterval(timer);
    setTimeout(() => {
      throw new Error("injected crash");
    }, 50);
  }, 20);
  timer.unref();
}
