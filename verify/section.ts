/**
 * One section of `npm run verify`: a file verify/<name>.ts exporting `run()`, which exercises the toolkit
 * for real and reports its figures. `ok` is false when any figure shows a failure.
 */
export interface SectionResult {
  title: string;
  figures: Record<string, number | string>;
  ok: boolean;
}

export interface Section {
  run(): Promise<SectionResult>;
}
