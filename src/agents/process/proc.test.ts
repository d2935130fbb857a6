import { describe, expect, it } from "vitest";
import { isStoppedOrDead, parseStat, readCmdline, readStat, selfAndAncestors } from "./proc.js";

// Fields 3..22 after the comm: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
// cutime cstime priority nice threads itrealvalue starttime
const TAIL = "S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 10000 100";

describe("parseStat", () => {
  it("reads state, parent and start time", () => {
    expect(parseStat(4242, `4242 (node) ${TAIL}`)).toEqual({
      pid: 4242,
      comm: "node",
      state: "S",
      ppid: 17,
      startTime: 987654,
    });
  });

  it("keeps a command name holding spaces and parentheses intact", () => {
    const stat = parseStat(7, `7 (we ird) (x) ${TAIL}`);
    expect(stat?.comm).toBe("we ird) (x");
    expect(stat?.startTime).toBe(987654);
  });

  it("rejects text that is not a stat line", () => {
    expect(parseStat(1, "garbage")).toBeUndefined();
  });
});

describe("/proc readers", () => {
  it("read this very process", async () => {
    const self = await readStat(process.pid);
    expect(self?.pid).toBe(process.pid);
    expect(self?.ppid).toBe(process.ppid);
    expect(self?.state).toMatch(/[RS]/);
    expect(await readCmdline(process.pid)).toContain(process.argv[1]);
  });

  it("report a pid that does not exist as gone", async () => {
    expect(await readStat(2 ** 22 + 1)).toBeUndefined();
    expect(await readCmdline(2 ** 22 + 1)).toBeUndefined();
  });

  it("list this process and its parent among the ancestors", async () => {
    const chain = await selfAndAncestors();
    expect(chain.has(process.pid)).toBe(true);
    expect(chain.has(process.ppid)).toBe(true);
  });

  it("count stopped, traced and zombie states as not running", () => {
    expect(["T", "t", "Z", "X"].every(isStoppedOrDead)).toBe(true);
    expect(["R", "S", "D", "I"].some(isStoppedOrDead)).toBe(false);
  });
});
