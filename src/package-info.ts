import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root (the folder holding package.json), whether code runs from src/ or dist/src/. */
export const projectRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the service');
    dir = parent;
  }
  return dir;
})();

export const packageInfo: { name: string; version: string; description: string } = JSON.parse(
  readFileSync(join(projectRoot, 'package.json'), 'utf8'),
);
