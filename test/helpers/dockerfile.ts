/**
 * Reads a Dockerfile and carries out its build steps on this machine, one folder per stage, so a
 * test can check the image's recipe without a Docker engine. It knows the instructions our
 * Dockerfile uses (FROM, WORKDIR, COPY [--from], RUN, ENV, USER, EXPOSE, HEALTHCHECK, CMD);
 * any other makes it fail loudly rather than skip a step.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

export interface Stage {
  readonly name: string;
  readonly base: string;
  readonly instructions: Instruction[];
}

export function parseDockerfile(path: string): Stage[] {
  const logical = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!keyword) throw new Error(`unreadable Dockerfile line: ${line}`);
    if (keyword.toUpperCase() === 'FROM') {
      const [base, , name] = args.split(/\s+/);
      stages.push({ name: name ?? String(stages.length), base, instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`${keyword} before FROM`);
      stages[stages.length - 1].instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** The exec form `["node", "x.js"]` of CMD / HEALTHCHECK CMD; the shell form is refused on purpose. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
    throw new Error(`not an exec form: ${args}`);
  return parsed;
}

export interface BuiltImage {
  /** The final stage's folder standing for its filesystem root. */
  readonly root: string;
  readonly workdir: string;
  readonly env: Record<string, string>;
  readonly user: string | undefined;
  readonly cmd: string[];
  readonly healthcheck: string[] | undefined;
  readonly exposed: string[];
  /** Debian packages the Dockerfile installs that this machine, standing in for the base image, lacks. */
  readonly missingPackages: string[];
}

/**
 * `apt-get install` steps are not run here: this machine stands in for the base image, so the
 * packages they install must already be on it (.ci/run installs them). Returns those that are not.
 */
function missingAptPackages(command: string): string[] {
  const packages = [...command.matchAll(/apt-get install ([^&;|]+)/g)]
    .flatMap((m) => m[1].trim().split(/\s+/))
    .filter((word) => !word.startsWith('-'));
  return packages.filter((name) => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
    const q = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return q.status !== 0 || !q.stdout.includes('install ok installed');
  });
}

function parseEnv(args: string, into: Record<string, string>): void {
  for (const m of args.matchAll(/(\w+)=("([^"]*)"|\S+)/g)) into[m[1]] = m[3] ?? m[2];
}

/** Runs every stage's steps in `outDir/<stage>`, with `context` as the build context. */
export function buildImage(dockerfile: string, context: string, outDir: string): BuiltImage {
  const stages = parseDockerfile(dockerfile);
  const roots = new Map<string, string>();
  let image: BuiltImage | undefined;
  const missingPackages: string[] = [];
  for (const stage of stages) {
    const root = join(outDir, stage.name);
    mkdirSync(root, { recursive: true });
    roots.set(stage.name, root);
    const inRoot = (p: string) => join(root, p);
    let workdir = '/';
    const env: Record<string, string> = {};
    let user: string | undefined;
    let cmd: string[] = [];
    let healthcheck: string[] | undefined;
    const exposed: string[] = [];
    for (const { keyword, args } of stage.instructions) {
      switch (keyword) {
        case 'WORKDIR':
          workdir = isAbsolute(args) ? args : join(workdir, args);
          mkdirSync(inRoot(workdir), { recursive: true });
          break;
        case 'ENV':
          parseEnv(args, env);
          break;
        case 'COPY': {
          const words = args.split(/\s+/);
          const from = words[0].startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
          const dest = words.pop()!;
          const destPath = inRoot(isAbsolute(dest) ? dest : join(workdir, dest));
          for (const src of words) {
            const source =
              from === undefined ? join(context, src) : join(roots.get(from) ?? fail(`no stage ${from}`), src);
            const target = dest.endsWith('/') || words.length > 1 ? join(destPath, basename(src)) : destPath;
            if (statSync(source).isDirectory()) cpSync(source, target, { recursive: true });
            else cpSync(source, target);
          }
          break;
        }
        case 'RUN': {
          if (/^apt-get\b/.test(args)) {
            missingPackages.push(...missingAptPackages(args));
            break;
          }
          const run = spawnSync('sh', ['-c', args], {
            cwd: inRoot(workdir),
            // The image's npm cache is its own, as in Docker: a step like `npm cache clean`
            // must not empty the cache of the machine running the test.
            env: { ...process.env, npm_config_cache: join(outDir, '.npm-cache'), ...env },
            encoding: 'utf8',
            maxBuffer: 64 * 1024 * 1024,
          });
          if (run.status !== 0) throw new Error(`RUN ${args} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
          break;
        }
        case 'USER':
          user = args;
          break;
        case 'EXPOSE':
          exposed.push(...args.split(/\s+/));
          break;
        case 'HEALTHCHECK': {
          const at = args.indexOf('CMD ');
          if (at < 0) throw new Error(`HEALTHCHECK without CMD: ${args}`);
          healthcheck = execForm(args.slice(at + 4).trim());
          break;
        }
        case 'CMD':
          cmd = execForm(args);
          break;
        default:
          throw new Error(`the Dockerfile emulation does not know ${keyword}`);
      }
    }
    image = { root, workdir: inRoot(workdir), env, user, cmd, healthcheck, exposed, missingPackages };
  }
  if (!image) throw new Error('no stage in the Dockerfile');
  return image;
}

function fail(message: string): never {
  throw new Error(message);
}
