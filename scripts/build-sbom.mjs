#!/usr/bin/env node
/**
 * Writes the service's software bill of materials, dist/sbom.cdx.json (CycloneDX JSON), with
 * `npm sbom`: the packages the service runs on, that is the production dependencies the image's
 * runtime stage installs (`npm ci --omit=dev`), with versions, purls, licenses and the lockfile's
 * hashes. The Dockerfile copies dist/, so the image carries the list of what is inside it.
 * (`npm audit` needs the registry's audit endpoint; the SBOM can be checked anywhere, offline.)
 *
 * npm names the root component after the folder the project sits in (the checkout's, or /app in
 * the image); it is renamed here to the package's name, typed `application`.
 *
 * Plain JavaScript (not TypeScript) because it runs in the build, next to the compiler.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'dist', 'sbom.cdx.json');
const args = ['sbom', '--sbom-format', 'cyclonedx', '--sbom-type', 'application', '--omit=dev'];

// Under npm (npm run build), the npm that runs us; else the one on PATH.
const npm = process.env.npm_execpath;
const r = npm
  ? spawnSync(process.execPath, [npm, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  : spawnSync('npm', args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
if (r.error !== undefined || r.status !== 0) {
  console.error(`npm ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr ?? ''}`);
  process.exit(1);
}

const sbom = JSON.parse(r.stdout);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (sbom.bomFormat !== 'CycloneDX' || !Array.isArray(sbom.components)) {
  console.error(`npm sbom wrote no CycloneDX document: ${r.stdout.slice(0, 200)}`);
  process.exit(1);
}
if (sbom.metadata?.component) sbom.metadata.component.name = pkg.name;

mkdirSync(dirname(target), { recursive: true });
// Written whole or not at all: a half-written file must not look like a build's SBOM.
writeFileSync(`${target}.tmp`, `${JSON.stringify(sbom, null, 2)}\n`);
renameSync(`${target}.tmp`, target);
