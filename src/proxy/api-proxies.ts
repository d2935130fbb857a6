import { ApiError, ErrMissingField, internalError } from "./api-error.js";
import type { ProxyCollection, ProxyInput } from "./collection.js";
import { asStruct, boolField, decodeBody, stringField, typeError } from "./go-json.js";
import type { TcpProxy } from "./proxy.js";
import { json, noContent, type Reply } from "./reply.js";
import { readTlsInput } from "./tls.js";

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
      let result: { applied: TcpProxy[]; error?: unknown };
      try {
        result = await proxies.populate(populateInputs(decodeBody(body)));
      } catch (error) {
        result = { applied: [], error };
      }
      // Go marshals an empty result slice as null; an error comes first, with what was applied before it.
      const applied = result.applied.length > 0 ? result.applied : null;
      if (result.error === undefined) return json(201, { proxies: applied });
      const apiErr = toApiError(result.error);
      return json(apiErr.status, { error: apiErr.message, status: apiErr.status, proxies: applied });
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

/** @throws ApiError 400 for a missing name or upstream, a field of the wrong type, or a malformed `tls`. */
function proxyInput(input: Record<string, unknown>, struct: string, at: string): ProxyInput {
  const name = stringField(input, "name", struct) ?? "";
  const upstream = stringField(input, "upstream", struct) ?? "";
  if (name === "") throw ErrMissingField.join(`name${at}`);
  if (upstream === "") throw ErrMissingField.join(`upstream${at}`);
  const proxy: ProxyInput = {
    name,
    listen: stringField(input, "listen", struct) ?? "",
    upstream,
    enabled: boolField(input, "enabled", struct) ?? true,
  };
  // An extension of Toxiproxy's envelope: clients that do not send it get a proxy that passes TLS as bytes.
  const tls = readTlsInput(input.tls, name);
  if (tls) proxy.tls = tls;
  return proxy;
}

/**
 * Checks the whole populate request (or config file) before anything changes, as Toxiproxy does.
 * @throws ApiError 400 for a body that is not an array of proxies, or one without a name or upstream.
 */
export function populateInputs(body: unknown): ProxyInput[] {
  if (body === null) return [];
  if (!Array.isArray(body)) throw typeError(body, "[]toxiproxy.Proxy");
  return body.map((item, i) => proxyInput(asStruct(item, "toxiproxy.Proxy"), ".Proxy", ` at proxy ${i + 1}`));
}
