import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BuiltImage, buildImage, parseDockerfile } from '../helpers/dockerfile.js';
import { projectRoot } from '../helpers/paths.js';

/**
 * No Docker engine runs here, so the image is built by following the Dockerfile's own steps in
 * a scratch folder: a clean copy of what it COPYs, its npm installs and build, its production-only
 * runtime stage, then its CMD, probed with its HEALTHCHECK.
 */

const dockerfile = join(projectRoot, 'Dockerfile');

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('the Dockerfile', () => {
  it('is multi-stage, runs as a non-root user, checks /health/ready and starts node directly', () => {
    const stages = parseDockerfile(dockerfile);
    assert.ok(stages.length >= 2, 'multi-stage');
    const final = stages[stages.length - 1].instructions;
    const user = final.find((i) => i.keyword === 'USER')?.args;
    assert.ok(user && user !== 'root' && user !== '0', `runs as ${user}`);
    assert.ok(
      final.some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args)),
      'production dependencies only',
    );
    assert.match(final.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '', /\/health\/ready/);
    assert.match(final.find((i) => i.keyword === 'CMD')?.args ?? '', /^\["node",/);
  });

  describe('built and run without Docker', { timeout: 600_000 }, () => {
    let dir: string;
    let image: BuiltImage;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'convsvc-image-'));
      image = buildImage(dockerfile, projectRoot, dir);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('has no development dependency in the runtime stage', () => {
      const ls = spawnSync('npm', ['ls', '--omit=dev', '--depth=0', '--json'], {
        cwd: image.workdir,
        encoding: 'utf8',
      });
      const deps = Object.keys((JSON.parse(ls.stdout) as { dependencies?: object }).dependencies ?? {});
      assert.ok(deps.includes('fastify'));
      for (const dev of ['typescript', 'supertest', 'fast-check', 'tsx'])
        assert.ok(!deps.includes(dev), `${dev} is not installed`);
      const full = spawnSync(
        process.execPath,
        ['-e', "import('typescript').then(() => process.exit(1), () => process.exit(0))"],
        { cwd: image.workdir },
      );
      assert.equal(full.status, 0, 'typescript cannot be imported in the runtime stage');
    });

    it("carries the build's CycloneDX SBOM, listing the production dependencies it runs on and no others", () => {
      const path = join(image.workdir, 'dist', 'sbom.cdx.json');
      assert.ok(existsSync(path), 'dist/sbom.cdx.json is in the image');
      const sbom = JSON.parse(readFileSync(path, 'utf8')) as {
        bomFormat: string;
        metadata: { component: { name: string } };
        components: { name: string; version: string }[];
      };
      assert.equal(sbom.bomFormat, 'CycloneDX');
      assert.equal(sbom.metadata.component.name, 'convsvc');
      const listed = new Map(sbom.components.map((c) => [c.name, c.version]));
      const { dependencies } = JSON.parse(readFileSync(join(image.workdir, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      for (const name of Object.keys(dependencies)) {
        const installed = (
          JSON.parse(readFileSync(join(image.workdir, 'node_modules', name, 'package.json'), 'utf8')) as {
            version: string;
          }
        ).version;
        assert.equal(listed.get(name), installed, `${name}@${installed} is listed`);
      }
      for (const dev of ['typescript', 'supertest', 'fast-check', 'tsx', 'node-gyp'])
        assert.ok(!listed.has(dev), `${dev} is not listed`);
    });

    it('starts with its CMD, becomes healthy by its HEALTHCHECK, and stops on SIGTERM with code 0', async () => {
      const port = String(await freePort());
      const env = {
        PATH: process.env.PATH ?? '',
        ...image.env,
        PORT: port,
        GRPC_PORT: String(await freePort()),
        HOST: '127.0.0.1',
        WORKERS: '1',
        LOG_LEVEL: 'warn',
      };
      const [command, ...args] = image.cmd;
      assert.equal(command, 'node');
      const child = spawn(process.execPath, args, { cwd: image.workdir, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        const [probe, ...probeArgs] = image.healthcheck!;
        assert.equal(probe, 'node');
        let healthy = false;
        for (let i = 0; i < 100 && !healthy; i++) {
          healthy = spawnSync(process.execPath, probeArgs, { env, timeout: 3000 }).status === 0;
          if (!healthy) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(healthy, `the HEALTHCHECK passes: ${stderr}`);
        const res = await fetch(`http://127.0.0.1:${port}/openapi.json`);
        assert.equal(res.status, 200);
        // The image runs the native GEMM; here that holds where this machine has the packages
        // its Dockerfile installs (CI's does), and the WebAssembly fallback runs otherwise.
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const want = image.missingPackages.length === 0 ? 'f32-gemm-cblas-openblas' : 'f32-gemm-4x8-wasmsimd';
        assert.match(
          metrics,
          new RegExp(`convsvc_gemm_variant_info\\{dtype="float32",variant="${want}"`),
          `missing here: ${image.missingPackages.join(' ')}; ${metrics
            .split('\n')
            .filter((l) => l.startsWith('convsvc_gemm'))
            .join(' | ')}`,
        );
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, stderr);
    });
  });
});
