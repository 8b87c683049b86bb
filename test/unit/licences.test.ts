/**
 * Every package the server runs with (the production dependency tree, as `npm ls --omit=dev`
 * resolves it) has a licence that lets anyone self-host or sell this product: no GPL, AGPL,
 * LGPL or SSPL (issue 11 item 11: ua-parser-js 2.x is AGPL-3.0 and slipped in once).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const COPYLEFT = /^(A|L)?GPL|^SSPL/i;

/**
 * Whether an SPDX expression can be used without a copyleft licence: `A OR B` when either
 * side can, `A AND B` (or `A WITH exception`) only when both can.
 */
function permits(expression: string): boolean {
  const tokens = expression.replace(/[()]/g, ' $& ').trim().split(/\s+/);
  let i = 0;
  const orExpr = (): boolean => {
    let ok = andExpr();
    while (tokens[i]?.toUpperCase() === 'OR') {
      i++;
      ok = andExpr() || ok;
    }
    return ok;
  };
  const andExpr = (): boolean => {
    let ok = atom();
    while (tokens[i]?.toUpperCase() === 'AND' || tokens[i]?.toUpperCase() === 'WITH') {
      const op = tokens[i++]!.toUpperCase();
      const right = atom();
      if (op === 'AND') ok = right && ok;
    }
    return ok;
  };
  const atom = (): boolean => {
    const t = tokens[i++] ?? '';
    if (t === '(') {
      const ok = orExpr();
      i++;
      return ok;
    }
    return t !== '' && !COPYLEFT.test(t);
  };
  return orExpr();
}

function licenceOf(dir: string): string | undefined {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    license?: string | { type?: string };
    licenses?: Array<{ type?: string }>;
  };
  if (typeof pkg.license === 'string') return pkg.license;
  if (pkg.license?.type) return pkg.license.type;
  const old = pkg.licenses?.map((l) => l.type).filter(Boolean);
  return old?.length ? old.join(' OR ') : undefined;
}

interface LsNode {
  version?: string;
  path?: string;
  missing?: boolean;
  dependencies?: Record<string, LsNode>;
}

function productionTree(): Promise<LsNode> {
  return new Promise((resolve, reject) => {
    execFile('npm', ['ls', '--omit=dev', '--all', '--json', '--long'], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      // npm ls exits non-zero for problems such as unmet optional peers; its JSON is still whole.
      if (!stdout) return reject(err ?? new Error('npm ls printed nothing'));
      resolve(JSON.parse(stdout) as LsNode);
    });
  });
}

describe('licences of runtime dependencies', () => {
  it.each([
    ['MIT', true],
    ['Apache-2.0', true],
    ['(MIT OR GPL-3.0)', true],
    ['MIT AND Zlib', true],
    ['AGPL-3.0-or-later', false],
    ['GPL-2.0', false],
    ['LGPL-3.0-only', false],
    ['SSPL-1.0', false],
    ['MIT AND GPL-3.0', false],
    ['(GPL-2.0 OR LGPL-2.1)', false],
    ['GPL-2.0 WITH Classpath-exception-2.0', false],
    ['', false],
  ])('%s → %s', (expression, ok) => {
    expect(permits(expression)).toBe(ok);
  });

  it('no installed production package is under GPL, AGPL, LGPL or SSPL, and each names a licence', async () => {
    const root = await productionTree();
    const found = new Map<string, string | undefined>();
    const walk = (node: LsNode) => {
      for (const [name, dep] of Object.entries(node.dependencies ?? {})) {
        // Optional packages for other platforms are listed without being installed.
        if (!dep.path || !dep.version || dep.missing) continue;
        const id = `${name}@${dep.version}`;
        if (found.has(id)) continue;
        found.set(id, licenceOf(dep.path));
        walk(dep);
      }
    };
    walk(root);
    expect(found.size).toBeGreaterThan(50);
    expect([...found.keys()]).toContain(`bowser@${JSON.parse(readFileSync('node_modules/bowser/package.json', 'utf8')).version}`);
    const refused = [...found].filter(([, licence]) => !licence || !permits(licence)).map(([id, licence]) => `${id}: ${licence ?? 'no licence'}`);
    expect(refused).toEqual([]);
  }, 60_000);
});
