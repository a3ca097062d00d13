import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addNagChecks } from '../../infra/lib/nag';
import { buildRelayApp, type RelayStacks } from '../../infra/lib/relay-app';
import { readSettings } from '../../infra/lib/settings';

export interface SynthesizedRelay {
  app: App;
  stacks: RelayStacks;
  table: Template;
  /** Service templates by region. */
  services: Map<string, Template>;
}

/** The app exactly as bin/app.ts builds it, from the given context, with no AWS account in sight. */
export function synthRelayApp(context: Record<string, unknown> = {}): SynthesizedRelay {
  const app = new App({ context });
  const stacks = buildRelayApp(app, readSettings((key) => app.node.tryGetContext(key), {}));
  addNagChecks(app);
  app.synth();
  return {
    app,
    stacks,
    table: Template.fromStack(stacks.table),
    services: new Map(stacks.services.map((s) => [s.region, Template.fromStack(s)])),
  };
}

export type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}
