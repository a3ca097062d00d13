import type { App } from 'aws-cdk-lib';
import { guardPlaceholders } from './deploy-guard';
import { acknowledgeNagFindings } from './nag';
import { ProgressTableStack } from './progress-table-stack';
import { RelayServiceStack } from './relay-service-stack';
import type { RelaySettings } from './settings';

export interface RelayStacks {
  table: ProgressTableStack;
  services: RelayServiceStack[];
}

/** The whole deployment: the global table in its home region, one service stack per service region. */
export function buildRelayApp(app: App, settings: RelaySettings): RelayStacks {
  const prefix = settings.stackPrefix;

  // Replicas need a concrete region; the account may stay unresolved for credential-free synth.
  const table = new ProgressTableStack(app, `${prefix}-Table`, {
    env: { account: settings.account, region: settings.table.home },
    tableName: settings.tableName,
    replicaRegions: settings.table.replicas,
    unprotectedReplicaRegions: settings.table.unprotected,
    description: 'fifo-relay progress ledger (global table)',
  });

  const services = settings.regions.map((region) => {
    const stack = new RelayServiceStack(app, `${prefix}-Service-${region}`, {
      env: { account: settings.account, region },
      settings,
      description: `fifo-relay queue and worker service in ${region}`,
    });
    // The table is referenced by name, not by export, so order the deploys explicitly.
    stack.addStackDependency(table);
    acknowledgeNagFindings(stack);
    guardPlaceholders(stack, settings.placeholders);
    return stack;
  });
  return { table, services };
}
