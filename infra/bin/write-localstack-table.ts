#!/usr/bin/env node
/**
 * Writes deploy/localstack/progress-table.json, the CreateTable request the LocalStack hook
 * passes to `awslocal dynamodb create-table --cli-input-json`, from the table's one definition.
 * test/deploy/table-definition.test.ts fails while the committed file differs from it.
 *   npx tsx infra/bin/write-localstack-table.ts
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTableRequest } from '../../src/adapters/table-indexes';

export const LOCALSTACK_TABLE_JSON = resolve(__dirname, '..', '..', 'deploy', 'localstack', 'progress-table.json');

export function localstackTableJson(): string {
  return `${JSON.stringify(createTableRequest(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(LOCALSTACK_TABLE_JSON, localstackTableJson());
  process.stdout.write(`wrote ${LOCALSTACK_TABLE_JSON}\n`);
}
