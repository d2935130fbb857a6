/// <reference lib="dom" />
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Journal } from "../../src/experiments/journal.js";
import {
  abortedJournal,
  deviatedJournal,
  heldJournal,
} from "../../src/experiments/report/journals.fixture.js";
import { renderSuiteHtml } from "../../src/experiments/report/overview.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const describeWithChromium = existsSync(CHROMIUM) || process.env.CI ? describe : describe.skip;

/** The same experiment run on four days: held, deviated, aborted (nothing judged), held again. */
function history(): Journal[] {
  return [heldJournal, deviatedJournal, abortedJournal, heldJournal].map((make, i) => {
    const j = make();
    return {
      ...j,
      runId: `2026120${i + 1}-090000-00000${i}`,
      start: `2026-12-0${i + 1}T09:00:00.000Z`,
      end: `2026-12-0${i + 1}T09:01:00.000Z`,
      experiment: { ...j.experiment, title: "payments survive a slow gateway", file: "slow.yaml" },
    };
  });
}

describeWithChromium("chaos report's HTML overview of several runs in Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it.each([1280, 390])(
    "at %ipx: a row per run with its id and date, and the score over time, nothing off the page",
    async (width) => {
      const page = await browser.newPage({ viewport: { width, height: width > 600 ? 900 : 844 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.setContent(renderSuiteHtml(history()), { waitUntil: "load" });
      expect(errors).toEqual([]);
      // four identical titles told apart by their run id and date
      const rows = await page.locator("table tr").allInnerTexts();
      expect(rows).toHaveLength(5);
      expect(rows[1]).toMatch(/20261201-090000-000000\s+2026-12-01 09:00\s+HELD/);
      expect(rows[3]).toMatch(/2026-12-03 09:00\s+ABORTED.*—/);
      // one trend chart for the experiment: a point per judged run, a "—" for the run that judged nothing
      const trend = page.locator("svg.trend");
      expect(await trend.count()).toBe(1);
      expect(await trend.locator("g.point").count()).toBe(3);
      expect(await trend.locator("g.unjudged text").allTextContents()).toEqual(["—"]);
      expect(await trend.locator("text").allTextContents()).toEqual(
        expect.arrayContaining(["12-01 09:00", "12-04 09:00", "100%", "0%"]),
      );
      // the page does not scroll sideways; what is wider (the table, the chart) scrolls in its own box
      const problems = await page.evaluate(() => {
        const vw = document.documentElement.clientWidth;
        const out: string[] = [];
        if (document.documentElement.scrollWidth > vw + 1)
          out.push(`page ${document.documentElement.scrollWidth}px`);
        const scrolls = (el: Element | null): boolean =>
          !!el && (getComputedStyle(el).overflowX === "auto" || scrolls(el.parentElement));
        for (const el of document.querySelectorAll("main *")) {
          if (el.closest("svg") || scrolls(el.parentElement)) continue;
          if (el.getBoundingClientRect().right > vw + 1) out.push(`${el.tagName} runs off the page`);
        }
        return out;
      });
      expect(problems).toEqual([]);
      // chart text is readable: at least 8px as drawn
      const smallest = await trend.evaluate((svg) => {
        const s = svg as SVGSVGElement;
        return (12 * s.getBoundingClientRect().width) / s.viewBox.baseVal.width;
      });
      expect(smallest).toBeGreaterThanOrEqual(8);
      await page.close();
    },
    30_000,
  );
});
