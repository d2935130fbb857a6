/** An error the HTTP API answers with its own status, as Toxiproxy's `ApiError` values. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The same error with the cause appended, as Toxiproxy's `joinError`. */
  join(cause: string): ApiError {
    return new ApiError(`${this.message}: ${cause}`, this.status);
  }

  toJSON(): { error: string; status: number } {
    return { error: this.message, status: this.status };
  }
}

export const ErrBadRequestBody = new ApiError("bad request body", 400);
export const ErrMissingField = new ApiError("missing required field", 400);
export const ErrProxyNotFound = new ApiError("proxy not found", 404);
export const ErrProxyAlreadyExists = new ApiError("proxy already exists", 409);
export const ErrInvalidStream = new ApiError("stream was invalid, can be either upstream or downstream", 400);
export const ErrInvalidToxicType = new ApiError("invalid toxic type", 400);
export const ErrToxicAlreadyExists = new ApiError("toxic already exists", 409);
export const ErrToxicNotFound = new ApiError("toxic not found", 404);

/** An unexpected failure (e.g. a listen error): Toxiproxy answers those with 500 and the bare message. */
export function internalError(message: string): ApiError {
  return new ApiError(message, 500);
}
