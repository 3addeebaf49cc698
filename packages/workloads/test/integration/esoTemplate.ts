/**
 * What the External Secrets Operator does with an ExternalSecret's `target.template.data` (template
 * engine v2, Go `text/template`), for the subset the workloads layer writes: actions
 * `{{ .<secretKey> }}` and `{{ .<secretKey> | urlquery }}`. Anything else throws, so a template that
 * starts using another function fails the real-engine test instead of being rendered differently.
 */

const ACTION = /\{\{(.*?)\}\}/g;

/**
 * Go's `urlquery` template function, i.e. `url.QueryEscape`: every byte outside `A-Z a-z 0-9 - _ . ~`
 * is percent-encoded (upper-case hex) except the space, which becomes `+`.
 */
export function goUrlQuery(value: string): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) {
      out += c;
    } else if (c === " ") {
      out += "+";
    } else {
      out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return out;
}

/** Renders one template value with the ExternalSecret's data (its `secretKey`s). */
export function renderEsoTemplate(template: string, data: Readonly<Record<string, string>>): string {
  return template.replace(ACTION, (action: string, body: string) => {
    if (body.startsWith("-") || body.endsWith("-")) {
      throw new Error(`template action ${action}: whitespace trimming is not supported here`);
    }
    const [head, ...functions] = body.split("|").map((part) => part.trim());
    const field = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(head ?? "");
    if (!field) {
      throw new Error(`template action ${action}: only a field of the data (.<key>) is supported here`);
    }
    const value = data[field[1]];
    if (value === undefined) {
      throw new Error(`template action ${action}: the ExternalSecret has no data key '${field[1]}'`);
    }
    return functions.reduce((v, fn) => {
      if (fn !== "urlquery") {
        throw new Error(`template action ${action}: function '${fn}' is not supported here`);
      }
      return goUrlQuery(v);
    }, value);
  });
}
