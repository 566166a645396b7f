/**
 * planning/skew.ts: every rule of https://kubernetes.io/releases/version-skew-policy/ on both
 * sides of its bound. Each violating state breaks exactly one rule, so the whole list returned
 * by checkSkew is compared.
 */
import { Component, NodeState } from "../planning/cluster";
import { NodeTable } from "../planning/node-table";
import { apiserverBounds, checkSkew, maxKubeletLag, nodeViolations, SKEW_POLICY_URL, SkewRule, SkewViolation } from "../planning/skew";
import { cp, v, worker } from "./helpers/cluster-fixtures";

const ANCHOR: Record<Component, string> = {
  "kube-apiserver": "#kube-apiserver",
  "kube-controller-manager": "#kube-controller-manager-kube-scheduler-and-cloud-controller-manager",
  "kube-scheduler": "#kube-controller-manager-kube-scheduler-and-cloud-controller-manager",
  kubelet: "#kubelet",
  "kube-proxy": "#kube-proxy",
  kubectl: "#kubectl",
};

interface Expected {
  rule: SkewRule;
  component: Component;
  node: string;
  version: string;
  against: { component: Component; node: string; version: string };
}

const plain = (x: SkewViolation): Expected => ({
  rule: x.rule,
  component: x.component,
  node: x.node,
  version: x.version.toString(),
  against: { component: x.against.component, node: x.against.node, version: x.against.version.toString() },
});

/** checkSkew finds exactly `expected`, with a message naming the node, both versions and the policy section. */
function expectOnly(state: NodeState[], expected: Expected): void {
  const found = checkSkew(state);
  expect(found.map(plain)).toEqual([expected]);
  const message = found[0]!.message;
  expect(message).toContain(`${SKEW_POLICY_URL}${ANCHOR[expected.component]}`);
  expect(message).toContain(expected.node);
  expect(message).toContain(expected.version);
  expect(message).toContain(expected.against.version);
}

const expectClean = (state: NodeState[]): void => expect(checkSkew(state).map(plain)).toEqual([]);

/** HA control plane mid-upgrade: cp-1's control-plane components at 1.36, everything else at 1.35. */
const ha135136 = (): NodeState[] => [
  cp("cp-1", "1.35.9", { "kube-apiserver": "1.36.4", "kube-controller-manager": "1.36.4", "kube-scheduler": "1.36.4" }),
  cp("cp-2", "1.35.9"),
];

describe("kube-apiserver: HA instances within 1 minor", () => {
  it("1.35 + 1.36 passes", () => expectClean(ha135136()));

  it("1.34 + 1.36 is an apiserver-ha violation of the oldest against the newest", () => {
    // kubectl at 1.35 is within 1 minor of both; kubelets at 1.34 are not newer than the oldest.
    const cpComponents = { "kube-apiserver": "1.36.4", "kube-controller-manager": "1.36.4", "kube-scheduler": "1.36.4" };
    const state = [cp("cp-1", "1.34.9", { ...cpComponents, kubectl: "1.35.9" }), cp("cp-2", "1.34.9", { kubectl: "1.35.9" })];
    expectOnly(state, {
      rule: "apiserver-ha", component: "kube-apiserver", node: "cp-2", version: "1.34.9",
      against: { component: "kube-apiserver", node: "cp-1", version: "1.36.4" },
    });
  });
});

describe.each(["kube-controller-manager", "kube-scheduler"] as const)("%s against the kube-apiserver on its node", (component) => {
  const at = (version: string): NodeState[] => [cp("cp-1", "1.36.4", { [component]: version })];
  const against = { component: "kube-apiserver" as const, node: "cp-1", version: "1.36.4" };

  it("equal passes", () => expectClean(at("1.36.4")));
  it("1 minor older passes", () => expectClean(at("1.35.9")));

  it("2 minors older is too-old-for-apiserver", () => {
    expectOnly(at("1.34.9"), { rule: "too-old-for-apiserver", component, node: "cp-1", version: "1.34.9", against });
  });

  it("1 minor newer is newer-than-apiserver", () => {
    expectOnly(at("1.37.1"), { rule: "newer-than-apiserver", component, node: "cp-1", version: "1.37.1", against });
  });

  it("is compared with its own node's apiserver: 1.37 next to a local 1.37 apiserver passes while cp-1's apiserver is 1.36", () => {
    expectClean([cp("cp-1", "1.36.4"), cp("cp-2", "1.36.4", { "kube-apiserver": "1.37.1", [component]: "1.37.1" })]);
  });
});

describe("a control plane mid-upgrade", () => {
  it("passes with cp-1's control plane at 1.36 and cp-2 at 1.35: kubeadm points each controller-manager and scheduler at its node's local apiserver", () => {
    // cp-1's kube-controller-manager 1.36 is newer than cp-2's kube-apiserver 1.35, which
    // would break the rule if it were checked against every apiserver of the cluster.
    expectClean(ha135136());
  });

  it("flags only cp-1's kubelet if it moves before cp-2's apiserver (kubelet is never newer than the oldest apiserver)", () => {
    const [cp1, cp2] = ha135136();
    const state = [{ ...cp1!, versions: { ...cp1!.versions, kubelet: v("1.36.4") } }, cp2!];
    expectOnly(state, {
      rule: "newer-than-apiserver", component: "kubelet", node: "cp-1", version: "1.36.4",
      against: { component: "kube-apiserver", node: "cp-2", version: "1.35.9" },
    });
  });
});

describe("kubelet against kube-apiserver", () => {
  it("with HA apiservers 1.35/1.36, kubelet 1.35 passes", () => expectClean([...ha135136(), worker("w-1", "web", "1.35.9")]));

  it("with HA apiservers 1.35/1.36, kubelet 1.36 is newer than the oldest (1.35) one", () => {
    expectOnly([...ha135136(), worker("w-1", "web", "1.35.9", { kubelet: "1.36.4" })], {
      rule: "newer-than-apiserver", component: "kubelet", node: "w-1", version: "1.36.4",
      against: { component: "kube-apiserver", node: "cp-2", version: "1.35.9" },
    });
  });

  it("3 minors older than the newest apiserver (1.37 / 1.34) passes", () => {
    expectClean([cp("cp-1", "1.37.1"), worker("w-1", "web", "1.34.9")]);
  });

  it("4 minors older than the newest apiserver (1.37 / 1.33) is too-old-for-apiserver", () => {
    expectOnly([cp("cp-1", "1.37.1"), worker("w-1", "web", "1.34.9", { kubelet: "1.33.10" })], {
      rule: "too-old-for-apiserver", component: "kubelet", node: "w-1", version: "1.33.10",
      against: { component: "kube-apiserver", node: "cp-1", version: "1.37.1" },
    });
  });

  it("with HA apiservers 1.36/1.37, the newest one decides how old (1.34 passes, 1.33 fails against it)", () => {
    const cps = [cp("cp-1", "1.36.4", { "kube-apiserver": "1.37.1", "kube-controller-manager": "1.37.1" }), cp("cp-2", "1.36.4")];
    expectClean([...cps, worker("w-1", "web", "1.34.9")]);
    expectOnly([...cps, worker("w-1", "web", "1.34.9", { kubelet: "1.33.10" })], {
      rule: "too-old-for-apiserver", component: "kubelet", node: "w-1", version: "1.33.10",
      against: { component: "kube-apiserver", node: "cp-1", version: "1.37.1" },
    });
  });

  describe("a kubelet older than 1.25 may trail by 2 only", () => {
    // kube-proxy follows the apiserver so that only the kubelet rule is exercised.
    it("apiserver 1.26 / kubelet 1.24 passes", () => {
      expectClean([cp("cp-1", "1.26.15"), worker("w-1", "web", "1.26.15", { kubelet: "1.24.17" })]);
    });

    it("apiserver 1.27 / kubelet 1.24 is too-old-for-apiserver, naming the bound of 2", () => {
      const state = [cp("cp-1", "1.27.16"), worker("w-1", "web", "1.27.16", { kubelet: "1.24.17" })];
      expectOnly(state, {
        rule: "too-old-for-apiserver", component: "kubelet", node: "w-1", version: "1.24.17",
        against: { component: "kube-apiserver", node: "cp-1", version: "1.27.16" },
      });
      expect(checkSkew(state)[0]!.message).toMatch(/more than 2 minors/);
    });

    it("apiserver 1.28 / kubelet 1.25 passes (3 allowed from 1.25)", () => {
      expectClean([cp("cp-1", "1.28.15"), worker("w-1", "web", "1.28.15", { kubelet: "1.25.16" })]);
    });
  });
});

describe("kube-proxy against kube-apiserver", () => {
  it("with HA apiservers 1.35/1.36, kube-proxy 1.35 passes and 1.36 is newer than the oldest", () => {
    expectClean([...ha135136(), worker("w-1", "web", "1.35.9")]);
    expectOnly([...ha135136(), worker("w-1", "web", "1.35.9", { "kube-proxy": "1.36.4" })], {
      rule: "newer-than-apiserver", component: "kube-proxy", node: "w-1", version: "1.36.4",
      against: { component: "kube-apiserver", node: "cp-2", version: "1.35.9" },
    });
  });

  it("apiserver 1.37: kube-proxy 1.34 passes, 1.33 is too-old-for-apiserver", () => {
    expectClean([cp("cp-1", "1.37.1"), worker("w-1", "web", "1.34.9")]);
    expectOnly([cp("cp-1", "1.37.1"), worker("w-1", "web", "1.34.9", { "kube-proxy": "1.33.10" })], {
      rule: "too-old-for-apiserver", component: "kube-proxy", node: "w-1", version: "1.33.10",
      against: { component: "kube-apiserver", node: "cp-1", version: "1.37.1" },
    });
  });

  it("below 1.25 only 2: apiserver 1.26 / kube-proxy 1.24 passes, apiserver 1.27 / kube-proxy 1.24 fails, apiserver 1.28 / kube-proxy 1.25 passes", () => {
    expectClean([cp("cp-1", "1.26.15"), worker("w-1", "web", "1.25.16", { "kube-proxy": "1.24.17" })]);
    expectOnly([cp("cp-1", "1.27.16"), worker("w-1", "web", "1.25.16", { "kube-proxy": "1.24.17" })], {
      rule: "too-old-for-apiserver", component: "kube-proxy", node: "w-1", version: "1.24.17",
      against: { component: "kube-apiserver", node: "cp-1", version: "1.27.16" },
    });
    expectClean([cp("cp-1", "1.28.15"), worker("w-1", "web", "1.28.15", { "kube-proxy": "1.25.16" })]);
  });
});

describe("kube-proxy against the kubelet on its node (kube-proxy-kubelet)", () => {
  // With an apiserver present the apiserver bounds already imply this rule, so it is
  // isolated here with nodeViolations and no apiserver bounds.
  const check = (kubelet: string, proxy: string) =>
    nodeViolations(worker("w-1", "web", kubelet, { "kube-proxy": proxy }), undefined).map(plain);
  const violation = (kubelet: string, proxy: string): Expected[] => [{
    rule: "kube-proxy-kubelet", component: "kube-proxy", node: "w-1", version: proxy,
    against: { component: "kubelet", node: "w-1", version: kubelet },
  }];

  it("3 older passes, 4 older fails", () => {
    expect(check("1.36.4", "1.33.10")).toEqual([]);
    expect(check("1.36.4", "1.32.13")).toEqual(violation("1.36.4", "1.32.13"));
  });

  it("3 newer passes, 4 newer fails", () => {
    expect(check("1.33.10", "1.36.4")).toEqual([]);
    expect(check("1.32.13", "1.36.4")).toEqual(violation("1.32.13", "1.36.4"));
  });

  it("a kube-proxy below 1.25: 2 passes, 3 fails", () => {
    expect(check("1.26.15", "1.24.17")).toEqual([]);
    expect(check("1.27.16", "1.24.17")).toEqual(violation("1.27.16", "1.24.17"));
    const [found] = nodeViolations(worker("w-1", "web", "1.27.16", { "kube-proxy": "1.24.17" }), undefined);
    expect(found!.message).toMatch(/more than 2 minors/);
    expect(found!.message).toContain(`${SKEW_POLICY_URL}#kube-proxy`);
  });

  it("is reported by checkSkew alongside the apiserver rule", () => {
    const found = checkSkew([cp("cp-1", "1.36.4"), worker("w-1", "web", "1.36.4", { "kube-proxy": "1.32.13" })]);
    expect(found.map((x) => [x.rule, x.component, x.node])).toEqual([
      ["too-old-for-apiserver", "kube-proxy", "w-1"],
      ["kube-proxy-kubelet", "kube-proxy", "w-1"],
    ]);
  });
});

describe("kubectl within 1 minor of every kube-apiserver", () => {
  const kubectlOnCp2 = (version: string): NodeState[] => {
    const [cp1, cp2] = ha135136();
    return [cp1!, { ...cp2!, versions: { ...cp2!.versions, kubectl: v(version) } }];
  };

  it("on a control-plane node with apiserver 1.36: 1.35 and 1.37 pass", () => {
    expectClean([cp("cp-1", "1.36.4", { kubectl: "1.35.9" })]);
    expectClean([cp("cp-1", "1.36.4", { kubectl: "1.37.1" })]);
  });

  it("on a control-plane node with apiserver 1.36: 1.34 is a kubectl violation", () => {
    expectOnly([cp("cp-1", "1.36.4", { kubectl: "1.34.9" })], {
      rule: "kubectl", component: "kubectl", node: "cp-1", version: "1.34.9",
      against: { component: "kube-apiserver", node: "cp-1", version: "1.36.4" },
    });
  });

  it("with HA apiservers 1.35/1.36: 1.35 and 1.36 pass; 1.37 fails against the oldest, 1.34 against the newest", () => {
    expectClean(kubectlOnCp2("1.35.9"));
    expectClean(kubectlOnCp2("1.36.4"));
    expectOnly(kubectlOnCp2("1.37.1"), {
      rule: "kubectl", component: "kubectl", node: "cp-2", version: "1.37.1",
      against: { component: "kube-apiserver", node: "cp-2", version: "1.35.9" },
    });
    expectOnly(kubectlOnCp2("1.34.9"), {
      rule: "kubectl", component: "kubectl", node: "cp-2", version: "1.34.9",
      against: { component: "kube-apiserver", node: "cp-1", version: "1.36.4" },
    });
  });

  it("is not checked on workers (kubeadm gives workers no credentials for kubectl): 3 behind or 2 ahead passes", () => {
    expectClean([cp("cp-1", "1.36.4"), worker("w-1", "web", "1.36.4", { kubectl: "1.33.10" })]);
    expectClean([cp("cp-1", "1.36.4"), worker("w-1", "web", "1.36.4", { kubectl: "1.38.0" })]);
  });
});

/** States used for the cross-checks below: clean, one broken rule, several broken rules. */
const STATES: Record<string, NodeState[]> = {
  "no nodes": [],
  "workers only": [worker("w-1", "web", "1.36.4"), worker("w-2", "web", "1.36.4", { "kube-proxy": "1.31.14" })],
  "clean HA mid-upgrade": [...ha135136(), worker("w-1", "web", "1.33.10"), worker("w-2", "db", "1.35.9")],
  "three rules": [
    cp("cp-1", "1.36.4", { "kube-scheduler": "1.34.9", kubectl: "1.34.9" }),
    worker("w-1", "web", "1.36.4", { kubelet: "1.37.1" }),
  ],
  "HA skew and more": [
    cp("cp-1", "1.34.9", { "kube-apiserver": "1.36.4", "kube-controller-manager": "1.36.4", "kube-scheduler": "1.36.4", kubectl: "1.35.9" }),
    cp("cp-2", "1.34.9", { kubectl: "1.35.9" }),
    worker("w-1", "web", "1.34.9", { kubelet: "1.35.9" }),
    worker("w-2", "web", "1.32.13", { "kube-proxy": "1.36.4" }),
  ],
};

describe("checkSkew", () => {
  it("returns an empty list for a clean state", () => {
    const clean = [cp("cp-1", "1.36.4"), cp("cp-2", "1.36.4"), cp("cp-3", "1.36.4"), ...Array.from({ length: 5 }, (_, i) => worker(`w-${i}`, "web", "1.36.4"))];
    expect(checkSkew(clean)).toEqual([]);
    expect(checkSkew([])).toEqual([]);
  });

  it("returns every violation, control-plane rule first, then node by node", () => {
    expect(checkSkew(STATES["three rules"]!).map((x) => [x.rule, x.component, x.node])).toEqual([
      ["too-old-for-apiserver", "kube-scheduler", "cp-1"],
      ["kubectl", "kubectl", "cp-1"],
      ["newer-than-apiserver", "kubelet", "w-1"],
    ]);
    expect(checkSkew(STATES["HA skew and more"]!).map((x) => [x.rule, x.component, x.node])).toEqual([
      ["apiserver-ha", "kube-apiserver", "cp-2"],
      ["newer-than-apiserver", "kubelet", "w-1"],
      ["too-old-for-apiserver", "kubelet", "w-2"],
      ["newer-than-apiserver", "kube-proxy", "w-2"],
      ["kube-proxy-kubelet", "kube-proxy", "w-2"],
    ]);
  });

  it("gives the same answer for a NodeTable (iterated twice) as for an array", () => {
    for (const state of Object.values(STATES)) expect(checkSkew(NodeTable.from(state))).toEqual(checkSkew(state));
  });
});

describe("apiserverBounds and nodeViolations", () => {
  it("apiserverBounds finds the oldest and newest instance, or undefined without apiservers", () => {
    const bounds = apiserverBounds([cp("cp-1", "1.36.2"), cp("cp-2", "1.36.4"), worker("w-1", "web", "1.30.0"), cp("cp-3", "1.35.9")]);
    expect(bounds && { oldest: [bounds.oldest.node, `${bounds.oldest.version}`], newest: [bounds.newest.node, `${bounds.newest.version}`] })
      .toEqual({ oldest: ["cp-3", "1.35.9"], newest: ["cp-2", "1.36.4"] });
    expect(apiserverBounds([worker("w-1", "web", "1.36.4")])).toBeUndefined();
    expect(apiserverBounds([])).toBeUndefined();
  });

  it.each(Object.keys(STATES))("agree with checkSkew on %s: the HA rule plus every node's violations", (name) => {
    const state = STATES[name]!;
    const bounds = apiserverBounds(state);
    const ha = bounds !== undefined && bounds.newest.version.minorsAfter(bounds.oldest.version) > 1;
    const all = checkSkew(state);
    expect(all.filter((x) => x.rule === "apiserver-ha")).toHaveLength(ha ? 1 : 0);
    expect(all).toEqual([...all.filter((x) => x.rule === "apiserver-ha"), ...state.flatMap((n) => nodeViolations(n, bounds))]);
  });
});

describe("maxKubeletLag", () => {
  it.each([
    ["1.20.0", 2],
    ["1.24.17", 2],
    ["1.25.0", 3],
    ["1.37.1", 3],
  ])("%s -> %i", (version, lag) => expect(maxKubeletLag(v(version))).toBe(lag));
});
