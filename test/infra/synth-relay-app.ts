import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

/** The feature flags committed in infra/cdk.json, which the CLI passes to the app as context. */
export const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(resolve(__dirname, '../../infra/cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

/** A deployable minimum: the two settings that have no default. */
export const DEPLOYABLE = { imageUri: 'public.ecr.aws/example/fifo-relay:1.0.0', targetUrl: 'https://app.example.com/deliveries' };

/**
 * The app exactly as bin/app.ts builds it under the CLI (cdk.json's flags included), from the
 * given context on top of DEPLOYABLE, with no AWS account in sight. Pass `undefined` for a key to drop it.
 */
export function synthRelayApp(context: Record<string, unknown> = {}): SynthesizedRelay {
  const merged = Object.fromEntries(Object.entries({ ...CDK_JSON_CONTEXT, ...DEPLOYABLE, ...context }).filter(([, v]) => v !== undefined));
  const app = new App({ context: merged });
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
