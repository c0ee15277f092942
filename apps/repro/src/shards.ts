import type { PlannedRun } from "./plan";

/**
 * Splits a plan over `count` worker processes without splitting a dependency: a source run and the transfer and
 * CKA runs that load its model form one chain, and a chain goes to one worker. Chains are dealt largest first to
 * the least loaded worker (by `units`, e.g. planned steps), so the workers finish close together. Every process
 * computes the same assignment from the same plan.
 *
 * @returns for each worker, the keys of the runs it performs.
 */
export function shardRuns(
  runs: readonly PlannedRun[],
  count: number,
  units: (run: PlannedRun) => number,
): Set<string>[] {
  const chains = new Map<string, PlannedRun[]>();
  for (const run of runs) {
    const root = run.sourceKey ?? run.key;
    const chain = chains.get(root);
    if (chain === undefined) chains.set(root, [run]);
    else chain.push(run);
  }
  const sized = [...chains.values()]
    .map((chain) => ({ chain, size: chain.reduce((n, r) => n + units(r), 0) }))
    .sort((a, b) => b.size - a.size || (a.chain[0]?.key ?? "").localeCompare(b.chain[0]?.key ?? ""));
  const shards = Array.from({ length: count }, () => ({ keys: new Set<string>(), load: 0 }));
  for (const { chain, size } of sized) {
    let target = shards[0]!;
    for (const shard of shards) if (shard.load < target.load) target = shard;
    for (const run of chain) target.keys.add(run.key);
    target.load += size;
  }
  return shards.map((s) => s.keys);
}
