import type { ApiError } from "./api-error.js";

/** What a handler answers; api.ts writes it. */
export interface Reply {
  status: number;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export const json = (status: number, value: unknown): Reply => ({
  status,
  body: JSON.stringify(value),
  contentType: "application/json",
});

export const noContent = (): Reply => ({ status: 204 });

/** Go's http.Error: plain text content type (even for a JSON body), nosniff, and a trailing newline. */
export const plainError = (status: number, text: string): Reply => ({
  status,
  body: `${text}\n`,
  contentType: "text/plain; charset=utf-8",
  headers: { "X-Content-Type-Options": "nosniff" },
});

export const apiError = (err: ApiError): Reply => plainError(err.status, JSON.stringify(err));
