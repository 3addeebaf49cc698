import type { BucketAccess, KeyAccess } from "@hcp/platform";

/** A service's `objectStorage.documents` setting. */
export type DocumentsSetting = "none" | "read" | "readWrite";

/** What a service may do with the documents bucket of its region, and with the bucket's key. */
export interface DocumentsGrant {
  readonly bucket: BucketAccess;
  readonly key: KeyAccess;
}

/**
 * The documents access a service gets in a region: its setting, but never more than `read` in a
 * read-only region. A DR region's documents are a replica that S3 replication writes; an
 * application write there would never reach the primary (replication is one-way), and a region
 * whose database is a standby serves reads only anyway (READ_ONLY_MODE). After a promotion the
 * promoted region is read-write, and the old primary read-only.
 */
export function documentsGrant(
  setting: DocumentsSetting,
  mode: "readWrite" | "readOnly",
): DocumentsGrant | undefined {
  if (setting === "none") {
    return undefined;
  }
  return setting === "readWrite" && mode === "readWrite"
    ? { bucket: "readWrite", key: "encryptDecrypt" }
    : { bucket: "read", key: "decrypt" };
}
