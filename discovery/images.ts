/**
 * Versions read from container image references. Through the API, a control-plane
 * component's or kube-proxy's version is visible only as its image tag (REFERENCE.md,
 * "Measured on a real kube-apiserver"), so a tag that is not a version is refused, never guessed.
 * Reference grammar (`[registry[:port]/]repository[:tag][@digest]`):
 * https://github.com/distribution/reference/blob/main/reference.go
 * Tags kubeadm writes (`kubeadm config images list`): `registry.k8s.io/kube-apiserver:v1.31.4`,
 * `registry.k8s.io/etcd:3.5.15-0`, `registry.k8s.io/coredns/coredns:v1.11.3`:
 * https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-config/
 */
import { KubeVersion } from "../planning/versions";

/** A version part: at most 6 digits, no leading zero (as planning/versions.ts). */
const NUM = "(0|[1-9][0-9]{0,5})";
/** A Kubernetes release as kubelets report it and kubeadm tags its images: `v1.31.4`. */
const KUBE_RELEASE = new RegExp(`^v${NUM}\\.${NUM}\\.${NUM}$`);
/** etcd's tags in kubeadm's images: `3.5.15-0` (an image revision after the dash). */
export const ETCD_TAG = /^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+)?$/;
/** CoreDNS's tags: `v1.11.3`. */
export const COREDNS_TAG = /^v?[0-9]+\.[0-9]+\.[0-9]+$/;
/** The form {@link KUBE_RELEASE} accepts, for messages. */
export const KUBE_RELEASE_FORM = "vMAJOR.MINOR.PATCH, e.g. v1.31.4";

/** `v1.31.4` as a KubeVersion; undefined for anything else (no `1.31.4`, no `v1.31.4-rc.1`, no `v1.31.4+k3s1`). */
export function kubeRelease(text: string | undefined): KubeVersion | undefined {
  const m = text === undefined ? null : KUBE_RELEASE.exec(text);
  return m ? KubeVersion.of(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
}

/**
 * The tag of `image` when it matches `pattern`; otherwise `problem`, a sentence saying what is
 * wrong (no image, pinned by digest, no tag, a tag that is not a version), quoting the image.
 * An image with a digest is refused even when it also has a tag: the digest decides what runs.
 */
export function versionTag(image: string | undefined, pattern: RegExp, form: string): { readonly tag: string } | { readonly problem: string } {
  if (!image) return { problem: "has no image" };
  const at = image.indexOf("@");
  if (at >= 0) return { problem: `image ${JSON.stringify(image)} is pinned by digest, so the version it runs cannot be read from it` };
  const colon = image.lastIndexOf(":");
  if (colon <= image.lastIndexOf("/")) return { problem: `image ${JSON.stringify(image)} has no tag (it runs whatever "latest" is), so its version cannot be read` };
  const tag = image.slice(colon + 1);
  return pattern.test(tag) ? { tag } : { problem: `image ${JSON.stringify(image)} has the tag ${JSON.stringify(tag)}, which is not a version (${form})` };
}

/** {@link versionTag} for a Kubernetes component: its tag as a KubeVersion, or the problem. */
export function kubeImageVersion(image: string | undefined): { readonly version: KubeVersion } | { readonly problem: string } {
  const read = versionTag(image, KUBE_RELEASE, KUBE_RELEASE_FORM);
  return "problem" in read ? read : { version: kubeRelease(read.tag)! };
}
