import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type BuildOptions, buildApp } from '../../src/app.js';
import { type Config, defaultConfig } from '../../src/config.js';

/** Test configuration: the defaults with two workers, so tests do not depend on the machine's cores. */
export const testConfig = (overrides: Partial<Config> = {}): Config => ({
  ...defaultConfig(),
  workers: 2,
  ...overrides,
});

/** An app without a port, closed when the test (or suite) ends. */
export async function build(
  t: Pick<TestContext, 'after'> | null,
  overrides: Partial<Config> = {},
  options: BuildOptions = {},
): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(overrides), { logger: false, ...options });
  await app.ready();
  t?.after(() => app.close());
  return app;
}
