import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { parse, parseAllDocuments } from 'yaml';
import { EnvSchema, loadConfig } from '../../src/config.js';
import { deriveBudget } from '../../src/memory-budget.js';
import { expectedCost } from '../../src/memory-model.js';
import { loadHeldBytes } from '../../src/models/layers.js';
import { loadBodyLimit } from '../../src/v2/repository.js';
import { build } from '../helpers/build.js';
import { send } from '../helpers/http.js';
import { projectRoot } from '../helpers/paths.js';
import { serve, unary } from '../src/grpc/client.js';

/**
 * deploy/: the Kubernetes manifests and the compose file, read as YAML and held to what the app
 * really reads and serves: its environment variables (EnvSchema), its port, its routes.
 */
type Obj = Record<string, any>;
const deploy = join(projectRoot, 'deploy');
const manifests: Obj[] = readdirSync(join(deploy, 'k8s'))
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(deploy, 'k8s', f), 'utf8')).map((d) => d.toJS() as Obj));
const ofKind = (kind: string): Obj => {
  const found = manifests.filter((m) => m.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
};
const ENV_NAMES = Object.keys(EnvSchema.shape);
const DEFAULT_PORT = loadConfig({}).port;

let app: FastifyInstance;
before(async () => {
  app = await build(null, { workers: 1 });
});
after(() => app.close());

const deployment = ofKind('Deployment');
const pod = deployment.spec.template;
const container = pod.spec.containers[0];
const env = new Map<string, Obj>(container.env.map((e: Obj) => [e.name, e]));
const plainEnv = Object.fromEntries(
  [...env].filter(([, e]) => e.value !== undefined).map(([k, e]) => [k, String(e.value)]),
);
const matches = (selector: Obj, labels: Obj) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('the Deployment', () => {
  it('sets only variables the app reads, with values it accepts', () => {
    for (const name of env.keys()) assert.ok(ENV_NAMES.includes(name), `${name} is read by src/config.ts`);
    assert.doesNotThrow(() => loadConfig({ ...plainEnv, WORKERS: '2' }));
  });

  it('listens where the container port says', () => {
    const port = container.ports.find((p: Obj) => p.name === 'http');
    assert.ok(port);
    assert.equal(port.containerPort, Number(plainEnv.PORT ?? DEFAULT_PORT));
  });

  it("ties HTTP_PROCESSES and WORKERS to the container's CPU limit, and requests what it limits", () => {
    for (const name of ['HTTP_PROCESSES', 'WORKERS']) {
      const ref = env.get(name)?.valueFrom?.resourceFieldRef;
      assert.deepEqual(ref, { containerName: container.name, resource: 'limits.cpu', divisor: '1' }, name);
    }
    assert.ok(container.resources.limits.cpu, 'a CPU limit');
    assert.equal(container.resources.requests.cpu, container.resources.limits.cpu);
    assert.ok(container.resources.requests.memory && container.resources.limits.memory);
  });

  it('leaves each server process, beside its stored layers, a memory budget that admits its largest JSON body and its largest load', () => {
    const mebibytes = Number(/^(\d+)Mi$/.exec(container.resources.limits.memory)?.[1]);
    admitsTheLargest(mebibytes, Number(container.resources.limits.cpu), plainEnv);
  });

  it('listens for gRPC where the container port named grpc says', () => {
    const port = container.ports.find((p: Obj) => p.name === 'grpc');
    assert.ok(port);
    assert.equal(port.containerPort, loadConfig(plainEnv).grpcPort);
  });

  for (const [probe, want] of [
    ['livenessProbe', 200],
    ['startupProbe', 200],
  ] as const) {
    it(`${probe} asks a GET route the app serves, on the http port`, async () => {
      const { path, port } = container[probe].httpGet;
      assert.equal(port, 'http');
      assert.ok(app.hasRoute({ method: 'GET', url: path }), `GET ${path} is a route`);
      assert.equal((await send(app, { method: 'GET', url: path })).statusCode, want);
    });
  }

  it('readinessProbe is a gRPC health Check on the gRPC port, SERVING when /health/ready is 200', async (t) => {
    const { grpc } = container.readinessProbe;
    assert.equal(grpc.port, loadConfig(plainEnv).grpcPort);
    const served = await serve(t, { workers: 1 });
    assert.deepEqual(await unary(served.health, 'Check', { service: grpc.service ?? '' }), { status: 'SERVING' });
    assert.equal((await send(served.app, { method: 'GET', url: '/health/ready' })).statusCode, 200);
  });

  it('readiness is what fails while the service drains, liveness what does not', async (t) => {
    const draining = await serve(t, { workers: 1 });
    draining.app.pool.stopAdmitting();
    const check = await unary(draining.health, 'Check', { service: container.readinessProbe.grpc.service ?? '' });
    assert.deepEqual(check, { status: 'NOT_SERVING' });
    assert.equal(
      (await send(draining.app, { method: 'GET', url: container.livenessProbe.httpGet.path })).statusCode,
      200,
    );
  });

  it('gives SIGTERM time for the preStop pause and the whole drain', () => {
    const preStop = container.lifecycle.preStop.exec.command;
    const pause = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
    const graceMs = loadConfig(plainEnv).shutdownGraceMs;
    assert.ok(pod.spec.terminationGracePeriodSeconds * 1000 > pause * 1000 + graceMs, 'terminationGracePeriodSeconds');
  });

  it('selects its own pods', () => {
    assert.ok(matches(deployment.spec.selector.matchLabels, pod.metadata.labels));
  });
});

describe('the Service, HorizontalPodAutoscaler and PodDisruptionBudget', () => {
  it("the Service sends its ports to the pods' http and grpc ports", () => {
    const service = ofKind('Service');
    assert.ok(matches(service.spec.selector, pod.metadata.labels));
    const ports = container.ports.map((p: Obj) => p.name);
    for (const p of service.spec.ports) assert.ok(ports.includes(p.targetPort), `targetPort ${p.targetPort}`);
    assert.deepEqual(service.spec.ports.map((p: Obj) => p.targetPort).sort(), ['grpc', 'http']);
  });

  it('the HPA scales the Deployment on CPU, which the pods request', () => {
    const hpa = ofKind('HorizontalPodAutoscaler');
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(
      [hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name],
      ['Deployment', deployment.metadata.name],
    );
    assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
    assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
  });

  it('the PDB covers the pods and leaves some running', () => {
    const pdb = ofKind('PodDisruptionBudget');
    assert.ok(matches(pdb.spec.selector.matchLabels, pod.metadata.labels));
    assert.ok(pdb.spec.maxUnavailable < ofKind('HorizontalPodAutoscaler').spec.minReplicas);
  });
});

/** A container of `mebibytes` and `cores` running the app with `env`: its budget holds the largest JSON body and the largest load. */
function admitsTheLargest(mebibytes: number, cores: number, env: Record<string, string>): void {
  // Processes and threads follow the CPU limit where the manifest does not set them.
  const config = loadConfig({ HTTP_PROCESSES: String(cores), WORKERS: String(cores), ...env });
  const dir = mkdtempSync(join(tmpdir(), 'cgroup-'));
  writeFileSync(join(dir, 'memory.max'), String(mebibytes * 2 ** 20));
  const budget = deriveBudget({
    workers: config.workers,
    processes: config.httpProcesses,
    storedBytes: config.maxStoredBytes,
    limitFiles: [join(dir, 'memory.max')],
    heapLimitBytes: 2 ** 40,
  });
  assert.ok(budget.bytes >= expectedCost(config.maxBodyBytes, false), `${budget.bytes} bytes: ${budget.source}`);
  const load = loadHeldBytes(loadBodyLimit(config.maxStoredBytes));
  assert.ok(budget.bytes >= load, `the largest load is charged ${load} bytes; ${budget.bytes}: ${budget.source}`);
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(deploy, 'docker-compose.yml'), 'utf8')) as Obj;
  const service = compose.services.convsvc;
  const nginx = readFileSync(join(deploy, 'nginx.conf'), 'utf8');

  it('runs several replicas with variables the app reads', () => {
    assert.ok(service.deploy.replicas >= 2);
    for (const name of Object.keys(service.environment)) assert.ok(ENV_NAMES.includes(name), name);
    assert.doesNotThrow(() => loadConfig(service.environment));
    assert.equal(
      service.environment.WORKERS,
      String(Number(service.deploy.resources.limits.cpus)),
      'WORKERS = the CPU limit',
    );
    assert.equal(
      service.environment.HTTP_PROCESSES,
      String(Number(service.deploy.resources.limits.cpus)),
      'HTTP_PROCESSES = the CPU limit',
    );
  });

  it('leaves the server process, beside its stored layers, a memory budget that admits its largest JSON body and its largest load', () => {
    const mebibytes = Number(/^(\d+)M$/.exec(service.deploy.resources.limits.memory)?.[1]);
    admitsTheLargest(mebibytes, Number(service.deploy.resources.limits.cpus), service.environment);
  });

  it("puts nginx in front, proxying to the replicas' port and retrying a refused request elsewhere", () => {
    assert.ok(compose.services.lb.depends_on.convsvc);
    assert.match(nginx, new RegExp(`server convsvc:${service.environment.PORT}\\b`));
    assert.match(nginx, /proxy_next_upstream [^;]*http_503[^;]*non_idempotent/);
    assert.ok(parseInt(service.stop_grace_period, 10) * 1000 > loadConfig(service.environment).shutdownGraceMs);
  });
});
