/**
 * Every form in which a value could be printed — raw, URI-encoded, form-encoded, each part of a URL,
 * JSON-escaped once and twice, base64 — computed here independently of the toolkit's redactor, so that a test
 * of the redactor never uses the redactor's own list as its oracle. A form that cannot be produced (a lone
 * surrogate cannot be URI-encoded) is left out.
 */
export function secretForms(value: string): string[] {
  const out = new Set<string>([value]);
  const attempt = (f: () => string) => {
    try {
      out.add(f());
    } catch {
      // this form cannot exist for this value
    }
  };
  attempt(() => encodeURIComponent(value));
  attempt(() => encodeURI(value));
  attempt(() => new URLSearchParams({ k: value }).toString().slice(2));
  const u = new URL("http://h/");
  attempt(() => {
    u.username = value;
    return u.username;
  });
  attempt(() => {
    u.password = value;
    return u.password;
  });
  attempt(() => {
    u.pathname = `/${value}`;
    return u.pathname.slice(1);
  });
  attempt(() => {
    u.search = `?${value}`;
    return u.search.slice(1);
  });
  attempt(() => {
    u.hash = `#${value}`;
    return u.hash.slice(1);
  });
  const json = JSON.stringify(value).slice(1, -1);
  out.add(json);
  out.add(JSON.stringify(json).slice(1, -1));
  out.add(Buffer.from(value).toString("base64").replace(/=+$/, ""));
  out.delete("");
  return [...out];
}
