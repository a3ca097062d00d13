/**
 * Where the global table lives, kept apart from where services run: CloudFormation ties the
 * table to its home region for good, and adds or removes at most one replica per update, so
 * neither may follow from the order or the length of the service region list.
 */
export interface TableRegions {
  /** The region of the table stack; it never moves (moving it would create a second table). */
  home: string;
  /** Every other region with a replica. */
  replicas: string[];
  /** Replicas on their way out: deletion protection off, the step before removing them. */
  unprotected: string[];
}

export interface TableRegionInput {
  serviceRegions: string[];
  tableRegion: string | undefined;
  replicaRegions: string[] | undefined;
  unprotectedReplicaRegions: string[] | undefined;
  /** The replica regions deployed now, as the operator recorded them; enables the one-change-per-deploy check. */
  deployedReplicaRegions: string[] | undefined;
}

const RUNBOOK = 'see docs/deploy-regions.md';

export function tableRegions(input: TableRegionInput): TableRegions {
  const { serviceRegions } = input;
  if (!input.tableRegion && serviceRegions.length > 1) {
    throw new Error(`context tableRegion is required with several regions, so that reordering regions never moves the table (${RUNBOOK})`);
  }
  const home = input.tableRegion ?? serviceRegions[0];
  if (!home) throw new Error('context regions must name at least one region');
  const replicas = input.replicaRegions ?? [];
  if (new Set(replicas).size !== replicas.length) throw new Error('context replicaRegions lists a region twice');
  if (replicas.includes(home)) throw new Error(`context replicaRegions must not include tableRegion ${home}`);

  for (const region of serviceRegions) {
    if (region !== home && !replicas.includes(region)) {
      throw new Error(`region ${region} runs a service but has no table replica: add it to replicaRegions first (${RUNBOOK})`);
    }
  }

  const unprotected = input.unprotectedReplicaRegions ?? [];
  for (const region of unprotected) {
    if (!replicas.includes(region)) throw new Error(`context unprotectedReplicaRegions: ${region} is not in replicaRegions`);
    if (serviceRegions.includes(region)) {
      throw new Error(`context unprotectedReplicaRegions: ${region} still runs a service; retire its service stack first (${RUNBOOK})`);
    }
  }

  if (input.deployedReplicaRegions) {
    const deployed = input.deployedReplicaRegions;
    const added = replicas.filter((r) => !deployed.includes(r));
    const removed = deployed.filter((r) => !replicas.includes(r));
    if (added.length + removed.length > 1) {
      throw new Error(
        `replicaRegions changes ${[...added.map((r) => `+${r}`), ...removed.map((r) => `-${r}`)].join(' ')} against deployedReplicaRegions: ` +
          `CloudFormation adds or removes one replica per update; deploy one change at a time (${RUNBOOK})`,
      );
    }
  }
  return { home, replicas, unprotected };
}
