import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { availableCores } from '../../src/cpu-limit.js';

describe('configuration from the environment', () => {
  it('has the defaults of docs/api.md', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.cores, availableCores());
    assert.equal(c.workers, availableCores());
    assert.equal(c.httpProcesses, availableCores(), 'a server process per core');
    assert.ok(availableCores() <= availableParallelism());
    assert.equal(c.maxBodyBytes, 64 * 1024 * 1024);
    assert.equal(c.maxElements, 16_777_216);
    assert.equal(c.maxMacs, 2 ** 36);
    assert.deepEqual(c.apiKeys, []);
    assert.equal(c.rateLimitMax, 0, 'no rate limit unless asked for');
    assert.equal(c.rateLimitWindowMs, 60_000);
  });

  it('reads the protections against clients that take their time, the memory budget and the metrics key', () => {
    const d = loadConfig({});
    assert.deepEqual(
      [d.memoryBudgetBytes, d.minBodyBytesPerSecond, d.headersTimeoutMs, d.maxConnections, d.metricsApiKeys],
      [undefined, 16384, 10_000, 4096, []],
    );
    const c = loadConfig({
      MEMORY_BUDGET_BYTES: String(2 ** 30),
      MIN_BODY_BYTES_PER_SECOND: '0',
      HEADERS_TIMEOUT_MS: '5000',
      MAX_CONNECTIONS: '100',
      METRICS_API_KEY: 'm1,m2',
    });
    assert.deepEqual(
      [c.memoryBudgetBytes, c.minBodyBytesPerSecond, c.headersTimeoutMs, c.maxConnections, c.metricsApiKeys],
      [2 ** 30, 0, 5000, 100, ['m1', 'm2']],
    );
    assert.throws(() => loadConfig({ MEMORY_BUDGET_BYTES: '1000' }), /MEMORY_BUDGET_BYTES/);
  });

  it('reads GEMM_VARIANT, one of the GEMM families, unset by default', () => {
    assert.equal(loadConfig({}).gemmVariant, undefined);
    for (const family of ['native', 'wasm', 'typescript'])
      assert.equal(loadConfig({ GEMM_VARIANT: family }).gemmVariant, family);
  });

  it('reads the rate limit', () => {
    const c = loadConfig({ RATE_LIMIT_MAX: '100', RATE_LIMIT_WINDOW_MS: '1000' });
    assert.deepEqual([c.rateLimitMax, c.rateLimitWindowMs], [100, 1000]);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      HTTP_PROCESSES: '4',
      WORKERS: '3',
      MAX_BODY_BYTES: '4096',
      MAX_ELEMENTS: '10',
      MAX_MACS: '20',
      MAX_QUEUE: '5',
      REQUEST_TIMEOUT_MS: '100',
      LOG_LEVEL: 'warn',
      API_KEYS: 'a, b ,,c',
    });
    assert.deepEqual(
      [
        c.port,
        c.host,
        c.httpProcesses,
        c.workers,
        c.maxBodyBytes,
        c.maxElements,
        c.maxMacs,
        c.maxQueue,
        c.requestTimeoutMs,
        c.logLevel,
      ],
      [9000, '127.0.0.1', 4, 3, 4096, 10, 20, 5, 100, 'warn'],
    );
    assert.deepEqual(c.apiKeys, ['a', 'b', 'c']);
  });

  for (const [name, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['WORKERS', '0'],
    ['HTTP_PROCESSES', '0'],
    ['HTTP_PROCESSES', 'all'],
    ['MAX_ELEMENTS', '-5'],
    ['MAX_MACS', '1.5'],
    ['LOG_LEVEL', 'loud'],
    ['RATE_LIMIT_MAX', '-1'],
    ['RATE_LIMIT_WINDOW_MS', '0'],
    ['GEMM_VARIANT', 'fast'],
    ['GEMM_VARIANT', 'NATIVE'],
  ]) {
    it(`refuses ${name}=${value}, naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (err: unknown) => err instanceof ConfigError && err.message.includes(name) && err.message.includes(value),
      );
    });
  }
});
