import { z } from "zod";
import type { ImageRef } from "./types";

/**
 * The optional `digest` of an image in the config: a content digest pins what runs even if the tag
 * is pushed again (tags in public registries are mutable). Renovate writes and moves it
 * (renovate.json, `pinDigests` for container images).
 */
export const imageDigest = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, "expected sha256: and 64 lower-case hex digits")
  .optional()
  .describe(
    "content digest sha256:<64 hex> of the tag's image; when set, pods pull repository:tag@digest (exactly this image); Renovate pins and updates it",
  );

/**
 * The reference a container spec names: `repository:tag@digest` when the image has a digest (the
 * runtime pulls by digest and the tag only documents the release), else `repository:tag`.
 */
export function imageReference(image: ImageRef): string {
  return `${image.repository}:${image.tag}${image.digest ? `@${image.digest}` : ""}`;
}
