#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { addNagChecks } from '../lib/nag';
import { buildRelayApp } from '../lib/relay-app';
import { readSettings } from '../lib/settings';

const app = new App();
buildRelayApp(app, readSettings((key) => app.node.tryGetContext(key)));
addNagChecks(app);
