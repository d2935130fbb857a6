/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Journal } from "../../src/experiments/journal.js";
import { renderHtml } from "../../src/experiments/report/html.js";
import {
  abortedJournal,
  deviatedJournal,
  heldJournal,
  outageJournal,
} from "../../src/experiments/report/journals.fixture.js";
import { STATUS_LABEL } from "../../src/experiments/report/summary.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// In CI a missing browser fails the suite; elsewhere it is skipped.
const describeWithChromium = existsSync(CHROMIUM) || process.env.CI ? describe : describe.skip;

/** A run that could not start: Prometheus unreachable at the preflight, nothing measured or injected. */
function infrastructureErrorJournal(): Journal {
  const j = heldJournal();
  return {
    ...j,
    status: "error",
    exitCode: 4,
    reasons: ["could not start, nothing was injected: prometheus at http://127.0.0.1:9 is unreachable"],
    steadyState: { before: [], during: [], after: [] },
    stopConditions: [],
    method: [],
    faults: [],
    rollbacks: [],
  };
}

const JOURNALS: [string, () => Journal][] = [
  ["held", heldJournal],
  ["deviated", deviatedJournal],
  ["timed-out", outageJournal],
  ["aborted", abortedJournal],
  ["infrastructure error", infrastructureErrorJournal],
];
/** A laptop and a phone. */
const WIDTHS = [1280, 390];
const CASES = WIDTHS.flatMap((w) => JOURNALS.map(([name, make]) => [name, w, make] as const));

describeWithChromium("the HTML report in Chromium", () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it.each(CASES)(
    "a %s run renders at %ipx without errors, with its verdict, every chart and no text cut off",
    async (_, width, make) => {
      const j = make();
      const html = renderHtml(j);
      const page = await browser.newPage({ viewport: { width, height: width > 600 ? 900 : 844 } });
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(e.message));
      await page.setContent(html, { waitUntil: "load" });

      expect(errors).toEqual([]);
      expect(await page.locator(".badge").first().textContent()).toBe(STATUS_LABEL[j.status]);
      expect(await page.locator(".figures").textContent()).toMatch(
        /^hypothesis: \d+ checks?, \d+ failed · resilience score/,
      );
      // a score only where the hypothesis was judged: an error or an abort shows none
      const judged = ["held", "deviated", "not-steady"].includes(j.status);
      expect(await page.locator(".figures").textContent()).toMatch(
        judged ? /score \d+(\.\d)?%$/ : /score —$/,
      );
      // a card per probe and stop condition, each with its chart (http probes also chart their latency)
      const names = [
        ...new Set(
          [...j.steadyState.before, ...j.steadyState.during, ...j.steadyState.after, ...j.stopConditions].map(
            (r) => r.probe,
          ),
        ),
      ];
      expect(await page.locator("section.card h3").allTextContents()).toEqual(expect.arrayContaining(names));
      expect(await page.locator("section.card").count()).toBe(names.length);
      expect(await page.locator("svg.chart").count()).toBe(
        (html.match(/<svg xmlns="http:\/\/www.w3.org\/2000\/svg" class="chart"/g) ?? []).length,
      );
      for (const card of await page.locator("section.card").all())
        expect(await card.locator("svg.chart").count()).toBeGreaterThan(0);

      // no text sticks out of its chart: every text box lies within the SVG's viewBox
      const outside = await page.evaluate(() =>
        [...document.querySelectorAll("svg.chart")].flatMap((svg) => {
          const vb = (svg as SVGSVGElement).viewBox.baseVal;
          return [...svg.querySelectorAll("text")].flatMap((t) => {
            const b = (t as SVGTextElement).getBBox();
            const m = (t as SVGTextElement).getCTM();
            // apply the element's own transform (the rotated y-axis title)
            const corners = [
              [b.x, b.y],
              [b.x + b.width, b.y + b.height],
            ].map(([x, y]) => ({ x: m!.a * x! + m!.c * y! + m!.e, y: m!.b * x! + m!.d * y! + m!.f }));
            const svgM = (svg as SVGSVGElement).getCTM()!;
            const local = corners.map((c) => ({ x: (c.x - svgM.e) / svgM.a, y: (c.y - svgM.f) / svgM.d }));
            const xs = local.map((c) => c.x);
            const ys = local.map((c) => c.y);
            const inside =
              Math.min(...xs) >= vb.x - 0.5 &&
              Math.max(...xs) <= vb.x + vb.width + 0.5 &&
              Math.min(...ys) >= vb.y - 0.5 &&
              Math.max(...ys) <= vb.y + vb.height + 0.5;
            return inside ? [] : [`${t.textContent} ${JSON.stringify(local)} in ${vb.width}x${vb.height}`];
          });
        }),
      );
      expect(outside).toEqual([]);

      // nothing runs off the page: no sideways scroll of the page itself, and every box of text either fits
      // its box or sits in a box that scrolls (a wide table, a chart on a phone)
      const overflow = await page.evaluate(() => {
        const vw = document.documentElement.clientWidth;
        const problems: string[] = [];
        if (document.documentElement.scrollWidth > vw + 1)
          problems.push(`page is ${document.documentElement.scrollWidth}px wide in ${vw}px`);
        const scrolls = (el: Element) => getComputedStyle(el).overflowX === "auto";
        for (const el of document.querySelectorAll("main *")) {
          if (el.closest("svg") || [...ancestors(el)].some(scrolls)) continue;
          const r = el.getBoundingClientRect();
          if (r.width && r.right > vw + 1)
            problems.push(`${el.tagName} "${el.textContent?.slice(0, 40)}" ends at ${r.right}px`);
          if (!scrolls(el) && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0)
            problems.push(
              `${el.tagName} "${el.textContent?.slice(0, 40)}" is cut: ${el.scrollWidth} > ${el.clientWidth}`,
            );
        }
        function* ancestors(el: Element) {
          for (let p = el.parentElement; p; p = p.parentElement) yield p;
        }
        return problems;
      });
      expect(overflow).toEqual([]);

      // chart text stays readable on a phone: no label rendered smaller than 8px
      const smallest = await page.evaluate(() =>
        Math.min(
          Infinity,
          ...[...document.querySelectorAll("svg.chart text")].map((t) => {
            const size = Number(t.getAttribute("font-size") ?? 11);
            const svg = t.closest("svg") as SVGSVGElement;
            return (size * svg.getBoundingClientRect().width) / svg.viewBox.baseVal.width;
          }),
        ),
      );
      if (j.steadyState.before.length) expect(smallest).toBeGreaterThanOrEqual(8);

      // an outage's timeouts are in its charts, in red, at the time they were taken
      const unanswered = [...j.steadyState.during, ...j.steadyState.before, ...j.steadyState.after].filter(
        (r) => r.outcome === "no-answer",
      ).length;
      if (unanswered) {
        for (const card of await page.locator("section.card").all()) {
          const perChart = await card
            .locator("svg.chart")
            .evaluateAll((svgs) => svgs.map((s) => s.querySelectorAll(".pt-error").length));
          expect(perChart).toEqual(perChart.map(() => unanswered));
          for (const svg of await card.locator("svg.chart").all()) {
            await expect(svg.locator("text.missing-reason").textContent()).resolves.toBe(
              "timed out after 1s",
            );
            expect(await svg.locator("text.missing-reason").isVisible()).toBe(true);
          }
        }
      }

      // a screenshot that is not blank: many distinct colours
      const shot = await page.screenshot({ fullPage: true });
      const colours = await page.evaluate(async (b64) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const c = document.createElement("canvas");
        c.width = img.width;
        c.height = img.height;
        const ctx = c.getContext("2d")!;
        ctx.drawImage(img, 0, 0);
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        const seen = new Set<number>();
        for (let i = 0; i < data.length; i += 4 * 97)
          seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
        return seen.size;
      }, shot.toString("base64"));
      expect(colours).toBeGreaterThan(10);
      await page.close();
    },
    30_000,
  );
});
