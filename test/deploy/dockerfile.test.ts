/**
 * No docker engine here, so the Dockerfile's steps run as a script: each stage in a directory
 * of its own standing for its WORKDIR, the build context a clean copy of the repository's
 * tracked files (less .dockerignore), each RUN with the same command, COPY --from between the
 * stages' directories; then the runtime stage's CMD starts with real Postgres and Redis and
 * must answer /readyz, and the HEALTHCHECK's command must pass against it. Not reproduced: the
 * base image (this machine's Node stands in for node:20-bookworm-slim) and USER node (the
 * steps run as whoever runs the test, who is also not root).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db';
import { TEST_REDIS_URL, testRedisPrefix } from '../helpers/redis';
import { TEST_MASTER_KEY } from '../helpers/server';

interface Step { op: string; args: string }

function steps(dockerfile: string): Step[] {
  return dockerfile.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

const freePort = () => new Promise<number>((ok) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => ok(port));
  });
});

const root = mkdtempSync(join(tmpdir(), 'wsl-image-'));
let running: ChildProcess | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  running?.kill('SIGTERM');
  for (const c of cleanups) await c();
  rmSync(root, { recursive: true, force: true });
});

describe('Dockerfile, run as a script', () => {
  it('builds in a clean copy and the result starts and answers /readyz and its HEALTHCHECK', async () => {
    // The build context: tracked files only (what a checkout has), less .dockerignore's names.
    const context = join(root, 'context');
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    const files = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean)
      .filter((f) => !ignored.some((i) => f === i || f.startsWith(`${i}/`)));
    for (const f of files) {
      mkdirSync(dirname(join(context, f)), { recursive: true });
      cpSync(f, join(context, f));
    }

    const stages = new Map<string, string>();
    let dir = '';
    let env: Record<string, string> = {};
    let cmd: string[] = [];
    let healthcheck: string[] = [];
    // Paths inside a stage are under its WORKDIR (/app); `dir` stands for it.
    const inStage = (stageDir: string, p: string) => resolve(stageDir, p.replace(/^\/app\/?/, './'));
    for (const { op, args } of steps(readFileSync('Dockerfile', 'utf8'))) {
      if (op === 'FROM') {
        const [, name] = args.split(/\s+AS\s+/i);
        dir = join(root, name ?? `stage${stages.size}`);
        mkdirSync(dir, { recursive: true });
        stages.set(name ?? '', dir);
        env = {};
      } else if (op === 'WORKDIR') {
        expect(args).toBe('/app');
      } else if (op === 'ENV') {
        const [k, v] = args.split('=');
        env[k!] = v!;
      } else if (op === 'COPY') {
        const parts = args.split(/\s+/);
        const from = parts[0]!.startsWith('--from=') ? stages.get(parts.shift()!.slice('--from='.length))! : null;
        const dest = parts.pop()!;
        // Docker's rules: a directory's contents go into dest; a file goes into dest when dest
        // is a directory (a trailing slash, `.`, or several sources), else becomes dest.
        const intoDir = dest.endsWith('/') || dest === '.' || parts.length > 1;
        for (const src of parts) {
          const source = from ? inStage(from, src) : resolve(context, src);
          const target = statSync(source).isDirectory() || !intoDir ? inStage(dir, dest) : join(inStage(dir, dest), basename(src));
          cpSync(source, target, { recursive: true });
        }
      } else if (op === 'RUN') {
        // NODE_ENV=production from ENV would make `npm ci` skip dev dependencies: as in docker, ENV applies.
        execFileSync('sh', ['-c', args], { cwd: dir, env: { ...process.env, ...env }, stdio: 'pipe', maxBuffer: 64 << 20 });
      } else if (op === 'HEALTHCHECK') {
        healthcheck = JSON.parse(args.slice(args.indexOf('CMD') + 3).trim()) as string[];
      } else if (op === 'CMD') {
        cmd = JSON.parse(args) as string[];
      } else if (!['USER', 'EXPOSE'].includes(op)) {
        throw new Error(`the script doesn't know ${op}`);
      }
    }
    const image = stages.get('runtime')!;
    // What the runtime stage holds: its production dependencies only, and the built element and console.
    expect(() => readFileSync(join(image, 'node_modules/vitest/package.json'))).toThrow();
    expect(readFileSync(join(image, 'dist/widget/widget.js'), 'utf8').length).toBeGreaterThan(0);

    const db = await createTestDatabase('image', { migrate: false });
    const redis = testRedisPrefix('image');
    cleanups.push(() => db.drop(), () => redis.cleanup());
    const port = await freePort();
    const runEnv = {
      PATH: process.env.PATH!, HOME: process.env.HOME ?? root, ...env, PORT: String(port),
      DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redis.prefix, MASTER_KEY: TEST_MASTER_KEY,
      PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn',
    };
    let output = '';
    running = spawn(cmd[0]!, cmd.slice(1), { cwd: image, env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    running.stdout!.on('data', (c) => (output += c));
    running.stderr!.on('data', (c) => (output += c));
    let ready = 0;
    for (let i = 0; i < 120 && ready !== 200; i++) {
      if (running.exitCode !== null) throw new Error(`the image's CMD exited ${running.exitCode}: ${output}`);
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0);
      if (ready !== 200) await new Promise((ok) => setTimeout(ok, 500));
    }
    expect(ready, output).toBe(200);
    // The HEALTHCHECK's own command, as docker would run it inside the container.
    execFileSync(healthcheck[0]!, healthcheck.slice(1), { cwd: image, env: runEnv, stdio: 'pipe' });
  }, 900_000);
});
