/**
 * Writes the OpenAPI document the service serves at /openapi.json to openapi/openapi.json.
 * `npm run openapi` after changing a route or schema; a test fails while the two differ.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { defaultConfig } from '../src/config.js';
import { renderOpenApi } from '../src/openapi-document.js';
import { projectRoot } from '../src/package-info.js';

const app = await buildApp({ ...defaultConfig(), workers: 1 }, { logger: false });
await app.ready();
const target = join(projectRoot, 'openapi', 'openapi.json');
writeFileSync(target, renderOpenApi(app.swagger()));
await app.close();
process.stdout.write(`wrote ${target.slice(projectRoot.length + 1)}\n`);
