/**
 * Waves: the plan cut into the parts one `pulumi up` carries out each. A wave is
 * - `resume`: nodes a stopped run left cordoned, made Ready and uncordoned, when nothing else
 *   is left; otherwise these steps come first in the next wave (`resumes` counts their nodes):
 *   a wave of their own would leave out the steps the stopped run finished in the wave it did
 *   not finish, so their commands would be deleted and run again by the up after;
 * - `control-plane`: the control plane's part of a hop (etcd snapshot, every kubeadm step,
 *   every control-plane kubelet);
 * - `workers`: consecutive batches of the rolling pools of one hop, as many as fit in
 *   `maxNodesPerUpdate` nodes (a batch is never split);
 * - `replacement`: one blue-green pool replaced;
 * - `os-patch`: consecutive OS-patch batches, as many as fit;
 * - `removal`: nodes removed for good (planning/removal.ts), before any hop: consecutive removal
 *   stages, as many as fit.
 * Waves are consecutive runs of the plan's steps, in plan order, so the first wave depends
 * on nothing outside itself. Each `pulumi up` reads the cluster again, plans what is left
 * and carries out its first wave; a finished cluster has none (../shared/DESIGN.md,
 * "How data flows", point 4).
 */
import { CommandSpec, intentLabel } from "./commands";
import type { Step, UpgradePlan } from "./plan-types";

/**
 * Most resources one update registers for its wave's steps (their commands, one NodeUpgrade
 * per node, one barrier per batch): the real engine rewrites its state after every step, so an
 * update must stay small whatever the cluster's size. A blue-green pool's instances are
 * registered in every update and come on top.
 */
export const MAX_RESOURCES_PER_UPDATE = 2_000;

/** What bounds a wave. */
export interface WaveBounds {
  /** Most nodes a `workers`, `os-patch`, `removal` or `resume` wave changes (whole batches only). */
  readonly maxNodes: number;
  /** The commands that carry the plan out (planning/commands.ts), counted per step. @default none */
  readonly commands?: readonly CommandSpec[];
  /** Most resources a filled wave registers (see {@link MAX_RESOURCES_PER_UPDATE}). @default MAX_RESOURCES_PER_UPDATE */
  readonly maxResources?: number;
}

export type WaveKind = "resume" | "control-plane" | "workers" | "replacement" | "os-patch" | "removal";

export interface Wave {
  /** 1-based; wave 1 is what the next `pulumi up` carries out. */
  readonly index: number;
  readonly kind: WaveKind;
  /** The hop it belongs to (1-based); 0 for resume and OS patching. */
  readonly hop: number;
  /** The version its steps bring their nodes to (for OS patching: the revision label). */
  readonly label: string;
  /** Pools it changes, in order. */
  readonly pools: readonly string[];
  /** Ids of its steps, in plan order. */
  readonly steps: readonly string[];
  /** Nodes its steps run on, each counted once (a blue-green replacement: the old nodes). */
  readonly nodes: number;
  /** Nodes a stopped run left cordoned that its first steps resume (wait Ready, uncordon); absent when none. */
  readonly resumes?: number;
}

/** What a step's wave is made of: the steps of one batch, or a whole replacement, or a hop's control plane. */
interface Unit {
  readonly kind: WaveKind;
  readonly key: string;
  readonly hop: number;
  readonly label: string;
  readonly pool: string;
  readonly steps: Step[];
  readonly nodes: Set<string>;
  /** Resources its steps register: their commands, a NodeUpgrade per node, a barrier. */
  resources: number;
}

/** A step's unit: the control plane's part of its hop, else its stage (a batch, or a step alone). */
function unitOf(step: Step): Omit<Unit, "steps" | "nodes" | "resources"> {
  const unit = { hop: step.hop, label: step.kind === "resume" ? "resume" : intentLabel(step), pool: step.pool, key: `stage/${step.stage}` };
  switch (step.kind) {
    case "resume":
      return { ...unit, kind: "resume" };
    case "etcd-snapshot":
    case "control-plane-upgrade":
    case "kubelet-upgrade":
      return { ...unit, kind: "control-plane", key: `cp/${step.hop}` };
    case "pool-replace":
      return { ...unit, kind: "replacement" };
    case "worker-upgrade":
      return { ...unit, kind: "workers" };
    case "os-patch":
      return { ...unit, kind: "os-patch" };
    case "node-removal":
      return { ...unit, kind: "removal" };
  }
}

/**
 * Cuts `plan` into waves: a `workers`, `os-patch` or `resume` wave takes whole batches while it
 * stays within `bounds.maxNodes` nodes and `bounds.maxResources` resources; a control-plane
 * wave or a replacement is one wave whatever its size.
 * @throws Error when one batch alone is larger than maxNodes (the config refuses that first).
 */
export function planWaves(plan: UpgradePlan, bounds: WaveBounds): Wave[] {
  const maxNodesPerUpdate = bounds.maxNodes;
  const maxResources = bounds.maxResources ?? MAX_RESOURCES_PER_UPDATE;
  const commandsOf = new Map<string, number>();
  for (const c of bounds.commands ?? []) commandsOf.set(c.step, (commandsOf.get(c.step) ?? 0) + 1);
  const units: Unit[] = [];
  for (const step of plan.steps) {
    const u = unitOf(step);
    const last = units[units.length - 1];
    const resources = (commandsOf.get(step.id) ?? 0) + step.nodes.length;
    if (last && last.key === u.key) {
      last.steps.push(step);
      for (const n of step.nodes) last.nodes.add(n);
      last.resources += resources;
    } else {
      // A batch after another may need a barrier (planning/commands.ts StageBarrier).
      units.push({ ...u, steps: [step], nodes: new Set(step.nodes), resources: resources + 1 });
    }
  }
  const waves: Wave[] = [];
  let open: { kind: WaveKind; hop: number; label: string; pools: string[]; steps: string[]; nodes: Set<string>; resources: number; resumes?: number } | undefined;
  const close = () => {
    if (open) {
      const { resources: _, ...wave } = open;
      waves.push({ index: waves.length + 1, ...wave, nodes: open.nodes.size });
    }
    open = undefined;
  };
  // Resume steps (stage 0, first in the plan) go first into the next wave; alone, a wave of their own.
  const resumed = units.filter((u) => u.kind === "resume");
  const rest = units.filter((u) => u.kind !== "resume");
  let carried: Unit[] = rest.length > 0 ? resumed : [];
  for (const u of rest.length > 0 ? rest : units) {
    const fills = u.kind === "workers" || u.kind === "os-patch" || u.kind === "resume" || u.kind === "removal";
    if (fills && u.nodes.size > maxNodesPerUpdate) throw new Error(`a batch of ${u.nodes.size} nodes (${u.key}) is more than maxNodesPerUpdate (${maxNodesPerUpdate})`);
    const joins = open && fills && open.kind === u.kind && open.label === u.label && open.nodes.size + u.nodes.size <= maxNodesPerUpdate && open.resources + u.resources <= maxResources;
    if (!joins) {
      close();
      open = { kind: u.kind, hop: u.hop, label: u.label, pools: [], steps: [], nodes: new Set(), resources: 0 };
      if (carried.length > 0) {
        const nodes = new Set(carried.flatMap((c) => [...c.nodes]));
        open.resumes = nodes.size;
        for (const c of carried) {
          open.resources += c.resources;
          if (!open.pools.includes(c.pool)) open.pools.push(c.pool);
          for (const st of c.steps) open.steps.push(st.id);
        }
        for (const n of nodes) open.nodes.add(n);
        carried = [];
      }
    }
    open!.resources += u.resources;
    if (!open!.pools.includes(u.pool)) open!.pools.push(u.pool);
    for (const s of u.steps) open!.steps.push(s.id);
    for (const n of u.nodes) open!.nodes.add(n);
    if (!fills) close();
  }
  close();
  return waves;
}

/**
 * One line per wave, e.g. `wave 2 (next pulumi up): hop 1 v1.35.9, workers of general: 12 node(s), 12 step(s)`
 * or `wave 1: removal, nodes removed for good: 2 node(s), 2 step(s)`.
 */
export function describeWave(wave: Wave, next: boolean): string {
  const what = wave.kind === "control-plane" ? "control plane" : wave.kind === "replacement" ? `replacement of pool ${wave.pools[0]}` : wave.kind === "resume" ? "resume nodes a stopped run left cordoned" : wave.kind === "removal" ? "nodes removed for good" : `${wave.kind === "os-patch" ? "OS patching" : "workers"} of ${wave.pools.join(", ")}`;
  const where = wave.hop > 0 ? `hop ${wave.hop} ${wave.label}` : wave.kind === "removal" ? "removal" : wave.label;
  const resumes = wave.resumes ? `, first resuming ${wave.resumes} node(s) a stopped run left cordoned` : "";
  return `wave ${wave.index}${next ? " (next pulumi up)" : ""}: ${where}, ${what}${resumes}: ${wave.nodes} node(s), ${wave.steps.length} step(s)`;
}
