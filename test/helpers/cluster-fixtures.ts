/**
 * Small builders for NodeState fixtures. Versions are written as strings ("1.34.6") and
 * parsed with parseFullVersion; `overrides` sets individual components to other versions.
 */
import { CONTROL_PLANE_POOL, Component, NodeState } from "../../planning/cluster";
import { KubeVersion, parseFullVersion } from "../../planning/versions";

/** A full version from a string such as "1.36.4"; throws on anything else. */
export function v(version: string): KubeVersion {
  return parseFullVersion(version, "fixture");
}

export type VersionOverrides = Partial<Record<Component, string>>;

function parsed(overrides: VersionOverrides): Partial<Record<Component, KubeVersion>> {
  return Object.fromEntries(Object.entries(overrides).map(([c, s]) => [c, v(s!)]));
}

/** A control-plane node running every component at `version`, except those in `overrides`. */
export function cp(name: string, version: string, overrides: VersionOverrides = {}): NodeState {
  const x = v(version);
  return {
    name,
    role: "control-plane",
    pool: CONTROL_PLANE_POOL,
    versions: {
      "kube-apiserver": x,
      "kube-controller-manager": x,
      "kube-scheduler": x,
      kubelet: x,
      "kube-proxy": x,
      kubectl: x,
      ...parsed(overrides),
    },
  };
}

/** A worker of `pool` running kubelet, kube-proxy and kubectl at `version`, except those in `overrides`. */
export function worker(name: string, pool: string, version: string, overrides: VersionOverrides = {}): NodeState {
  const x = v(version);
  return {
    name,
    role: "worker",
    pool,
    versions: { kubelet: x, "kube-proxy": x, kubectl: x, ...parsed(overrides) },
  };
}
