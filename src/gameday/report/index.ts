import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type GameDayRecord, writeRecord } from "../record.js";
import { renderGameDayHtml } from "./html.js";
import { renderGameDayMarkdown } from "./markdown.js";

export { renderGameDayHtml, renderGameDayMarkdown };

/**
 * Writes gameday.json, gameday.md and gameday.html into `dir`; returns their paths.
 * @throws the file system's error.
 */
export async function writeGameDay(dir: string, record: GameDayRecord): Promise<string[]> {
  const json = await writeRecord(dir, record);
  const md = join(dir, "gameday.md");
  const html = join(dir, "gameday.html");
  await writeFile(md, renderGameDayMarkdown(record));
  await writeFile(html, renderGameDayHtml(record));
  return [json, md, html];
}
