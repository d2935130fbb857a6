/** The values a template is filled with: asked in a terminal, or given as flags. */
export interface TemplateValues {
  /** The URL whose answers make the steady state (a health endpoint). */
  url: string;
  /** A PromQL expression whose value is the SLI. */
  query: string;
  /** What the fault touches: a process (name pattern, pid file, :port) or a proxy name. */
  target: string;
}

export type ValueName = keyof TemplateValues;

/** One question a template asks, with the answer it takes when nobody is asked. */
export interface Question {
  name: ValueName;
  prompt: string;
  default: string;
}

/**
 * An experiment template for `chaos init`: one file per template under templates/, listed in index.ts.
 * `render` returns the experiment's YAML without the schema modeline (init adds it, with the right path).
 */
export interface Template {
  name: string;
  description: string;
  questions: Question[];
  render(values: TemplateValues): string;
}

/** A YAML double-quoted scalar: a JSON string is one, whatever it holds. */
export const quote = (s: string) => JSON.stringify(s);

/**
 * A process target block from what a person typed: a path or `*.pid` is a pid file, `:8080` a listening
 * port, anything else a command-line pattern (one match at random, never more).
 */
export function processTarget(target: string): string {
  if (/^:\d+$/.test(target)) return `{ port: ${Number(target.slice(1))} }`;
  if (target.includes("/") || target.endsWith(".pid")) return `{ pid-file: ${quote(target)} }`;
  return `{ name: ${quote(target)}, select: { mode: one, max: 1 } }`;
}

export const URL_QUESTION: Question = {
  name: "url",
  prompt: "URL of the service's health endpoint",
  default: "http://127.0.0.1:8080/healthz",
};

export const PROCESS_QUESTION: Question = {
  name: "target",
  prompt: "process to act on (a command-line pattern, a pid file, or :port)",
  default: "my-service",
};

/**
 * The steady state of templates that watch a service's URL: it answers 200, checked every second while the
 * fault is live, and again within `after` once it is reverted.
 */
export function urlAnswersSteadyState(after: string): string {
  return `steady-state:
  probes:
    - name: the service answers 200
      http: { url: "\${configuration.url}", timeout: 2s }
      tolerance: { status: 200 }
  during: { every: 1s }
  after: { within: ${after} }`;
}
