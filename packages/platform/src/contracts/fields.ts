import { z } from "zod";

/**
 * Field shapes of the layer contracts. A consumer cannot use an empty host name, a port of 0 or a
 * string that is not an ARN where it needs one, so the readers (and the offline plan, which checks
 * every producer's exports) refuse them instead of passing them on to a resource that fails later.
 */

/** A string a consumer uses as-is: never empty. */
export const text = (): z.ZodString => z.string().min(1);

/** An Amazon Resource Name (any partition). */
export const arn = (): z.ZodString =>
  z.string().regex(/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$/, "expected an ARN");

/** A TCP port. */
export const port = (): z.ZodNumber => z.number().int().min(1).max(65535);

/** A DNS host name (lower-case labels, at most 253 characters). */
export const hostname = (): z.ZodString =>
  z
    .string()
    .max(253)
    .regex(/^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$/, "expected a DNS host name");

/** An IPv4 CIDR block. */
export const cidr = (): z.ZodString =>
  z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, "expected an IPv4 CIDR block");

/** An AWS region code. */
export const region = (): z.ZodString =>
  z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "expected an AWS region code");

/** A PEM-encoded X.509 certificate (public part only: a private key is refused). */
export const certificatePem = (): z.ZodString =>
  z
    .string()
    .regex(
      /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n?$/,
      "expected a PEM certificate",
    )
    .refine((pem) => !/PRIVATE KEY/.test(pem), "a certificate field must not carry a private key");
