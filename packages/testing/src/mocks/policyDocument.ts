/**
 * Renders `aws.iam.getPolicyDocument` arguments to the JSON the provider returns, so tests and
 * policies see the same document a deploy would produce: single-element lists collapse to strings,
 * principals group by type, conditions group by operator then key.
 */

type Raw = Record<string, unknown>;

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : typeof v === "string" ? [v] : [];
}

function collapse(values: string[]): string | string[] {
  return values.length === 1 ? values[0] : values;
}

function principals(v: unknown): Raw | string | undefined {
  const entries = Array.isArray(v) ? (v as Raw[]) : [];
  if (entries.length === 0) {
    return undefined;
  }
  const out: Record<string, string[]> = {};
  for (const p of entries) {
    const type = String(p["type"]);
    out[type] = [...(out[type] ?? []), ...list(p["identifiers"])];
  }
  if (Object.keys(out).length === 1 && out["*"]?.length === 1 && out["*"][0] === "*") {
    return "*";
  }
  return Object.fromEntries(Object.entries(out).map(([k, ids]) => [k, collapse(ids)]));
}

function conditions(v: unknown): Raw | undefined {
  const entries = Array.isArray(v) ? (v as Raw[]) : [];
  if (entries.length === 0) {
    return undefined;
  }
  const out: Record<string, Record<string, string | string[]>> = {};
  for (const c of entries) {
    const test = String(c["test"]);
    out[test] = { ...(out[test] ?? {}), [String(c["variable"])]: collapse(list(c["values"])) };
  }
  return out;
}

/** The policy JSON for a `getPolicyDocument` call's arguments. */
export function renderPolicyDocument(args: Raw): string {
  const statements = (Array.isArray(args["statements"]) ? (args["statements"] as Raw[]) : []).map((s) => {
    const out: Raw = {};
    if (s["sid"]) {
      out["Sid"] = s["sid"];
    }
    out["Effect"] = s["effect"] ?? "Allow";
    const fields: Array<[string, string]> = [
      ["actions", "Action"],
      ["notActions", "NotAction"],
      ["resources", "Resource"],
      ["notResources", "NotResource"],
    ];
    for (const [from, to] of fields) {
      const values = list(s[from]);
      if (values.length > 0) {
        out[to] = collapse(values);
      }
    }
    const p = principals(s["principals"]);
    if (p) {
      out["Principal"] = p;
    }
    const np = principals(s["notPrincipals"]);
    if (np) {
      out["NotPrincipal"] = np;
    }
    const c = conditions(s["conditions"]);
    if (c) {
      out["Condition"] = c;
    }
    return out;
  });
  return JSON.stringify({ Version: args["version"] ?? "2012-10-17", Statement: statements });
}
