import { join } from 'node:path';
import { projectRoot } from '../../src/package-info.js';

export { projectRoot };

export const fixturePath = (...parts: string[]): string => join(projectRoot, 'test', 'fixtures', ...parts);
