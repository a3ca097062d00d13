import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, describeConfig, loadConfig } from '../../src/config';

const root = resolve(__dirname, '..', '..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  entrypoint?: string[];
  environment?: Record<string, string> | string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
  volumes?: string[];
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const config = describeConfig();
const configEnv = new Set(config.map((c) => c.env));
/** The SDK reads these itself; the worker's schema deliberately does not repeat them. */
const SDK_ENV = /^(AWS_ENDPOINT_URL(_[A-Z0-9_]+)?|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_REGION)$/;

function env(service: Service): Record<string, string> {
  const e = service.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((kv) => kv.split(/=(.*)/s).slice(0, 2) as [string, string]));
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
}

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no ${name} service`);
  return s;
}

function requiredSettings(): string[] {
  try {
    loadConfig({});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [...new Set(err.problems.flatMap((p) => [.../^([A-Z][A-Z0-9_]+): is required/.exec(p) ?? []].slice(1)))];
  }
  throw new Error('the worker started with no settings at all');
}

function configDefault(envName: string): unknown {
  return config.find((c) => c.env === envName)?.default;
}

/** Container ports published or probed, from "host:container" and "ip:host:container" forms. */
function containerPorts(s: Service): number[] {
  return (s.ports ?? []).map((p) => Number(p.split(':').at(-1)));
}

function seconds(duration: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!m || duration === '') throw new Error(`unrecognized duration ${duration}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

describe('docker-compose.yml', () => {
  const worker = service('worker');
  const workerEnv = env(worker);

  it('has LocalStack, the worker, the demo app and Prometheus', () => {
    expect(Object.keys(services).sort()).toEqual(['demo-app', 'localstack', 'prometheus', 'worker']);
  });

  it('sets every setting the worker requires', () => {
    // Whatever the schema refuses to start without, asked of the schema itself.
    const required = requiredSettings();
    expect(required.sort()).toEqual(['AWS_REGION', 'PROGRESS_TABLE', 'QUEUE_URL', 'TARGET_URL']);
    for (const name of required) expect(workerEnv[name]?.trim()).toBeTruthy();
  });

  it('sets only variables the worker or the AWS SDK reads, so a typo fails here', () => {
    const unknown = Object.keys(workerEnv).filter((k) => !configEnv.has(k) && !SDK_ENV.test(k));
    expect(unknown).toEqual([]);
  });

  it('points the worker at LocalStack with dummy credentials', () => {
    expect(workerEnv).toMatchObject({ AWS_ENDPOINT_URL: 'http://localstack:4566', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
    expect(new URL(workerEnv.QUEUE_URL!).host).toBe('localstack:4566');
    expect(worker.depends_on).toMatchObject({ localstack: { condition: 'service_healthy' }, 'demo-app': { condition: 'service_healthy' } });
  });

  it('creates the queue and table the worker is configured with, in the LocalStack ready hook', () => {
    const ls = service('localstack');
    const lsEnv = env(ls);
    expect(workerEnv.QUEUE_URL!.split('/').at(-1)).toBe(lsEnv.FIFO_RELAY_QUEUE_NAME);
    expect(workerEnv.PROGRESS_TABLE).toBe(lsEnv.FIFO_RELAY_TABLE);
    expect(lsEnv.AWS_DEFAULT_REGION).toBe(workerEnv.AWS_REGION);
    expect(ls.volumes).toContain('./deploy/localstack/init-aws.sh:/etc/localstack/init/ready.d/init-aws.sh:ro');
    // The table's definition, mounted where the hook reads it unless FIFO_RELAY_TABLE_JSON says otherwise.
    const hookDefault = /table_json="\$\{FIFO_RELAY_TABLE_JSON:-([^}]+)\}"/.exec(read('deploy/localstack/init-aws.sh'))?.[1];
    expect(hookDefault).toBeDefined();
    expect(lsEnv.FIFO_RELAY_TABLE_JSON).toBeUndefined();
    expect(ls.volumes).toContain(`./deploy/localstack/progress-table.json:${hookDefault}:ro`);
    expect(ls.healthcheck?.test.join(' ')).toContain('/_localstack/init/ready');
  });

  it('pins the LocalStack image and passes LOCALSTACK_AUTH_TOKEN through', () => {
    const ls = service('localstack');
    expect(ls.image).toMatch(/^localstack\/localstack:\d+\.\d+\.\d+$/);
    expect(env(ls).LOCALSTACK_AUTH_TOKEN).toMatch(/^\$\{LOCALSTACK_AUTH_TOKEN(:-)?\}$/);
    for (const s of Object.values(services)) if (s.image && !s.build) expect(s.image).not.toMatch(/:latest$|^[^:]+$/);
  });

  it('probes the worker\'s health on its HTTP_PORT and publishes that port', () => {
    const port = Number(workerEnv.HTTP_PORT ?? configDefault('HTTP_PORT'));
    expect(worker.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${port}/healthz`);
    expect(containerPorts(worker)).toContain(port);
  });

  it('delivers to the demo app on the port it listens on, with the header it expects', () => {
    const demo = service('demo-app');
    const demoEnv = env(demo);
    const target = new URL(workerEnv.TARGET_URL!);
    expect(target.hostname).toBe('demo-app');
    expect(Number(target.port)).toBe(Number(demoEnv.DEMO_APP_PORT));
    expect(demo.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${demoEnv.DEMO_APP_PORT}/healthz`);
    expect(containerPorts(demo)).toContain(Number(demoEnv.DEMO_APP_PORT));
    expect(demoEnv.DEMO_AUTH_HEADER).toBe(workerEnv.TARGET_AUTH_HEADER);
    expect(demo.entrypoint).toEqual(['node', 'dist/demo/app-server.js']);
  });

  it('builds the worker and the demo app from the Dockerfile as one image', () => {
    const demo = service('demo-app');
    expect(worker.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
    expect(demo.build).toEqual(worker.build);
    expect(demo.image).toBe(worker.image);
  });

  it('runs an init in front of the worker and the demo app, as the ECS task does', () => {
    expect((worker as { init?: boolean }).init).toBe(true);
    expect((service('demo-app') as { init?: boolean }).init).toBe(true);
  });

  it('gives the worker longer than its shutdown grace before docker stop kills it', () => {
    const grace = Number(workerEnv.SHUTDOWN_GRACE_SECONDS ?? configDefault('SHUTDOWN_GRACE_SECONDS'));
    expect(seconds(worker.stop_grace_period ?? '10s')).toBeGreaterThan(grace);
  });

  it('has Prometheus scrape the worker\'s /metrics on HTTP_PORT', () => {
    const prom = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: Array<{ metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const port = workerEnv.HTTP_PORT ?? String(configDefault('HTTP_PORT'));
    const job = prom.scrape_configs[0]!;
    expect(job.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job.static_configs.flatMap((c) => c.targets)).toEqual([`worker:${port}`]);
    expect(service('prometheus').volumes).toContain('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const lines = dockerfile.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const args = Object.fromEntries(lines.filter((l) => l.startsWith('ARG ')).map((l) => l.slice(4).split('=') as [string, string]));
  const stages = lines.reduce<string[][]>((acc, l) => (l.startsWith('FROM ') ? [...acc, [l]] : (acc.at(-1)?.push(l), acc)), []);
  const final = stages.at(-1)!;
  const resolveArgs = (s: string) => s.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');

  it('is multi-stage and builds in a stage of its own', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages[0]!;
    expect(build).toContain('RUN npm ci --ignore-scripts --no-audit --no-fund');
    expect(build).toContain('RUN npm run build');
  });

  it('runs on a pinned Node 24 slim image', () => {
    for (const stage of stages) {
      const from = resolveArgs(stage[0]!);
      expect(from).toMatch(/^FROM node:24\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?( AS \w+)?$/);
    }
  });

  it('installs production dependencies only in the final stage and copies the build output', () => {
    expect(final.some((l) => /^RUN npm ci --omit=dev --ignore-scripts\b/.test(l))).toBe(true);
    expect(final.some((l) => /npm (install|i)\b/.test(l))).toBe(false);
    expect(final).toContain('COPY --from=build /app/dist ./dist');
    expect(final.some((l) => /^COPY (\.|src)/.test(l))).toBe(false);
  });

  it('runs as a non-root user', () => {
    const user = final.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
  });

  it('starts node directly with an exec-form entrypoint, so SIGTERM reaches the worker', () => {
    const entrypoint = final.filter((l) => l.startsWith('ENTRYPOINT ')).at(-1)!;
    expect(JSON.parse(entrypoint.slice('ENTRYPOINT '.length))).toEqual(['node', 'dist/main.js']);
    expect(final.some((l) => l.startsWith('CMD ') && !l.startsWith('CMD ['))).toBe(false);
    expect(final).toContain('STOPSIGNAL SIGTERM');
    expect(final).toContain(`EXPOSE ${String(configDefault('HTTP_PORT'))}`);
  });

  it('keeps local artefacts and secrets out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.git', '.env', '.tools', 'infra']) expect(ignored).toContain(entry);
    for (const needed of ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) expect(ignored).not.toContain(needed);
  });
});
