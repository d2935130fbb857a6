import { ApiError, ErrMissingField, internalError } from "./api-error.js";
import type { ProxyCollection, ProxyInput } from "./collection.js";
import { asStruct, boolField, decodeBody, stringField, typeError } from "./go-json.js";
import { json, noContent, type Reply } from "./reply.js";

/** Handlers of the proxy endpoints. Each throws ApiError for the answers that are errors. */
export function proxyHandlers(proxies: ProxyCollection) {
  return {
    index: async (): Promise<Reply> => json(200, Object.fromEntries(proxies.list().map((p) => [p.name, p]))),

    create: async (body: string): Promise<Reply> => {
      const input = asStruct(decodeBody(body), "toxiproxy.Proxy");
      const proxy = await proxies.add(proxyInput(input, "Proxy", ""));
      return json(201, proxy);
    },

    populate: async (body: string): Promise<Reply> => {
      try {
        const inputs = populateInputs(decodeBody(body));
        const applied = [];
        for (const input of inputs) applied.push(await proxies.addOrReplace(input));
        // Go marshals an empty result slice as null.
        return json(201, { proxies: applied.length > 0 ? applied : null });
      } catch (err) {
        const apiErr = toApiError(err);
        return json(apiErr.status, { error: apiErr.message, status: apiErr.status, proxies: null });
      }
    },

    show: async (name: string): Promise<Reply> => json(200, proxies.get(name)),

    update: async (name: string, body: string): Promise<Reply> => {
      const proxy = proxies.get(name);
      const input = asStruct(decodeBody(body), "toxiproxy.Proxy");
      await proxy.update({
        listen: stringField(input, "listen", "Proxy") ?? proxy.listen,
        upstream: stringField(input, "upstream", "Proxy") ?? proxy.upstream,
        enabled: boolField(input, "enabled", "Proxy") ?? proxy.enabled,
      });
      return json(200, proxy);
    },

    remove: async (name: string): Promise<Reply> => {
      await proxies.remove(name);
      return noContent();
    },

    reset: async (): Promise<Reply> => {
      await proxies.reset();
      return noContent();
    },
  };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return internalError(err instanceof Error ? err.message : String(err));
}

/** @throws ApiError 400 for a missing name or upstream, or a field of the wrong type. */
function proxyInput(input: Record<string, unknown>, struct: string, at: string): ProxyInput {
  const name = stringField(input, "name", struct) ?? "";
  const upstream = stringField(input, "upstream", struct) ?? "";
  if (name === "") throw ErrMissingField.join(`name${at}`);
  if (upstream === "") throw ErrMissingField.join(`upstream${at}`);
  return {
    name,
    listen: stringField(input, "listen", struct) ?? "",
    upstream,
    enabled: boolField(input, "enabled", struct) ?? true,
  };
}

/** Validates the whole populate request before anything changes, as Toxiproxy does. */
function populateInputs(body: unknown): ProxyInput[] {
  if (body === null) return [];
  if (!Array.isArray(body)) throw typeError(body, "[]toxiproxy.Proxy");
  const names = new Set<string>();
  return body.map((item, i) => {
    const input = proxyInput(asStruct(item, "toxiproxy.Proxy"), ".Proxy", ` at proxy ${i + 1}`);
    if (names.has(input.name)) throw internalError(`duplicate proxy name "${input.name}"`);
    names.add(input.name);
    return input;
  });
}
