import { isRpcSecret } from "@hcp/testing";
import * as pulumi from "@pulumi/pulumi";
import { SECRET, UNKNOWN } from "./model";

/**
 * Turns wire-format values (as the engine receives them from a preview) into what the plan document
 * shows: secrets become {@link SECRET}, unknowns {@link UNKNOWN}, resource references their URN.
 */

function isResourceReference(v: unknown): v is { urn: string } {
  return (
    typeof v === "object" &&
    v !== null &&
    (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialResourceSig
  );
}

/** A wire value as the plan document shows it. */
export function forDocument(value: unknown): unknown {
  if (isRpcSecret(value)) {
    return SECRET;
  }
  if (isResourceReference(value)) {
    return value.urn;
  }
  if (value === pulumi.runtime.unknownValue) {
    return UNKNOWN;
  }
  if (Array.isArray(value)) {
    return value.map(forDocument);
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, forDocument(v)]));
  }
  return value;
}
