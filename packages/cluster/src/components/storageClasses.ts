import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_CLASS_ANNOTATION, defaultStorageClass, LEGACY_STORAGE_CLASS } from "../services";

/** Arguments of {@link StorageClasses}. */
export interface StorageClassesArgs {
  /** The cluster's EBS key: every dynamically provisioned volume is encrypted with it. */
  readonly ebsKeyArn: pulumi.Input<string>;
}

/**
 * The cluster's storage classes: `gp3-encrypted` (EBS CSI, gp3, encrypted with the cluster's key,
 * Retain, WaitForFirstConsumer) is the default, and EKS's `gp2` class is marked not-default.
 *
 * gp2 is changed with a server-side-apply patch of only its default-class annotation rather than by
 * adopting the object: EKS created it and owns the rest of it, deleting or replacing it would break
 * any existing claim that names it, and on a stack teardown the patch releases just that field.
 * Clusters created on Kubernetes 1.30+ no longer mark gp2 default, so the patch is a no-op there; it
 * fixes clusters that were created earlier. `patchForce` takes the field over from EKS's manager.
 */
export class StorageClasses extends pulumi.ComponentResource {
  readonly defaultClass: k8s.storage.v1.StorageClass;
  readonly legacyNotDefault: k8s.storage.v1.StorageClassPatch;
  /** Name of the default StorageClass. */
  readonly defaultClassName: pulumi.Output<string>;

  constructor(name: string, args: StorageClassesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:cluster:StorageClasses", name, {}, opts);
    this.defaultClass = new k8s.storage.v1.StorageClass(
      `${name}-gp3-encrypted`,
      defaultStorageClass(args.ebsKeyArn),
      { parent: this },
    );
    this.legacyNotDefault = new k8s.storage.v1.StorageClassPatch(
      `${name}-gp2-not-default`,
      {
        metadata: {
          name: LEGACY_STORAGE_CLASS,
          annotations: { [DEFAULT_CLASS_ANNOTATION]: "false", "pulumi.com/patchForce": "true" },
        },
      },
      { parent: this },
    );
    this.defaultClassName = this.defaultClass.metadata.name;
    this.registerOutputs({ defaultClassName: this.defaultClassName });
  }
}
