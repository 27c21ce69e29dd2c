/**
 * `npm run fuzz [-- --runs N --seed S --url http://127.0.0.1:PORT --key K]`: fast-check over the live
 * HTTP API. Without --url it starts the service in this process on a loopback port, with API key K
 * (default fuzz-key), which every request carries but those spelled to get around it. Every answer must
 * be a 4xx problem document or a correct 200 — never a 5xx, a hang or a crash. Exits 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { fuzz } from './fuzz/run.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '10000' }, seed: { type: 'string' }, url: { type: 'string' }, key: { type: 'string', default: 'fuzz-key' } },
});

// Its own server takes an API key, so requests spelled to slip past it can be told apart.
const app = values.url ? undefined : await buildApp({ ...loadConfig(process.env), host: '127.0.0.1', apiKeys: [values.key] }, { logger: false });
const baseUrl = values.url ?? (await app!.listen({ host: '127.0.0.1', port: 0 }));
const started = performance.now();
const report = await fuzz({ baseUrl, runs: Number(values.runs), seed: values.seed === undefined ? undefined : Number(values.seed), apiKey: values.key });
const seconds = (performance.now() - started) / 1000;
await app?.close();

console.log(`fuzz: ${report.runs} requests in ${seconds.toFixed(1)} s against ${baseUrl}, seed ${report.seed}`);
console.log(`  statuses: ${JSON.stringify(report.statuses)}`);
console.log(`  kinds:    ${JSON.stringify(report.kinds)}`);
if (report.failure) {
  console.error(`FAILED: ${report.failure}`);
  process.exit(1);
}
console.log('  every answer was a 4xx problem document or a correct 200');
