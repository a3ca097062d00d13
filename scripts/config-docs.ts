// Renders the configuration schema as the README's table and as .env.example, so neither drifts from it.
import { describeConfig } from '../src/config';

const OPTIONAL_WITHOUT_DEFAULT = new Set(['TARGET_AUTH_HEADER', 'EMF_NAMESPACE']);

export function configMarkdown(): string {
  const lines = ['| Variable | Default | Meaning |', '| --- | --- | --- |'];
  for (const r of describeConfig()) {
    const def = r.default === '' ? (OPTIONAL_WITHOUT_DEFAULT.has(r.env) ? '*(empty)*' : '*(required)*') : `\`${String(r.default)}\``;
    lines.push(`| \`${r.env}\` | ${def} | ${r.doc.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n');
}

export function envExample(): string {
  const lines = ['# fifo-relay configuration. Required keys are uncommented; the others show their defaults.'];
  for (const r of describeConfig()) {
    lines.push('', `# ${r.doc}`);
    lines.push(r.default === '' && !OPTIONAL_WITHOUT_DEFAULT.has(r.env) ? `${r.env}=` : `# ${r.env}=${String(r.default)}`);
  }
  lines.push(
    '',
    '# AWS SDK settings (credentials come from the task role on ECS). For emulators or LocalStack:',
    '# AWS_ENDPOINT_URL=http://localhost:4566',
    '# AWS_ENDPOINT_URL_SQS=',
    '# AWS_ENDPOINT_URL_DYNAMODB=',
  );
  return `${lines.join('\n')}\n`;
}

if (require.main === module) {
  const mode = process.argv[2];
  if (mode === '--markdown') process.stdout.write(`${configMarkdown()}\n`);
  else if (mode === '--env') process.stdout.write(envExample());
  else {
    process.stderr.write('usage: tsx scripts/config-docs.ts --markdown | --env\n');
    process.exit(2);
  }
}
