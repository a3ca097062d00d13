import { Annotations, type App } from 'aws-cdk-lib';
import { acknowledgeNagFindings } from './nag';
import { ProgressTableStack } from './progress-table-stack';
import { RelayServiceStack } from './relay-service-stack';
import { PLACEHOLDER_TARGET_URL, type RelaySettings } from './settings';

export interface RelayStacks {
  table: ProgressTableStack;
  services: RelayServiceStack[];
}

/** The whole deployment: the global table in the first region, one service stack per region. */
export function buildRelayApp(app: App, settings: RelaySettings): RelayStacks {
  const [primary, ...others] = settings.regions;
  if (!primary) throw new Error('context regions must name at least one region');
  const prefix = settings.stackPrefix;

  // Replicas need a concrete region; the account may stay unresolved for credential-free synth.
  const table = new ProgressTableStack(app, `${prefix}-Table`, {
    env: { account: settings.account, region: primary },
    tableName: settings.tableName,
    replicaRegions: others,
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
    return stack;
  });

  if (settings.targetUrl === PLACEHOLDER_TARGET_URL) {
    Annotations.of(app).addWarningV2('fifo-relay:placeholderTargetUrl', 'context targetUrl is not set: the worker would deliver to a placeholder URL');
  }
  return { table, services };
}
