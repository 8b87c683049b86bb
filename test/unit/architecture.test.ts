import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The import rules of docs/architecture.md, checked on the source: features reach each other
 * only through a published surface (`index.ts` or `ports.ts`), `apps/` being the shared kernel
 * every feature may use; `lib/` knows no feature; the contract imports nothing but zod; the
 * browser code and the SDK never import the server.
 */
const root = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ts$/.test(f) && !/\.(test|d)\.ts$/.test(f))
    .map((f) => join(dir, f));
}

/** Every import specifier of a file (static, re-export and dynamic). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

/** Relative imports, resolved to repository paths without extension. */
function localImports(file: string): string[] {
  return importsOf(file).filter((s) => s.startsWith('.')).map((s) => relative(root, resolve(root, dirname(file), s)).replace(/\.(js|ts)$/, ''));
}

/** Reaches into another feature that are allowed for now: none. */
const KNOWN: string[] = [];

describe('import rules (docs/architecture.md)', () => {
  it('features use each other only through index.ts or ports.ts (apps/ is shared by all)', () => {
    const crossings: string[] = [];
    for (const file of sources('server/features')) {
      const own = file.split('/')[2];
      for (const target of localImports(file)) {
        const m = /^server\/features\/([^/]+)\/(.+)$/.exec(target);
        if (!m || m[1] === own || m[1] === 'apps') continue;
        if (m[2] === 'index' || m[2] === 'ports') continue;
        crossings.push(`${file} -> ${target}`);
      }
    }
    expect(crossings.filter((c) => !KNOWN.includes(c)), 'import the feature\'s index.ts or ports.ts, or pass it in main.ts').toEqual([]);
  });

  it('lib/ and db/ know no feature', () => {
    for (const file of [...sources('server/lib'), ...sources('server/db')]) {
      expect(localImports(file).filter((t) => t.startsWith('server/features/')), file).toEqual([]);
    }
  });

  it('the contract imports nothing but zod and itself', () => {
    for (const file of sources('contract')) {
      for (const spec of importsOf(file)) expect(spec === 'zod' || /^\.\/[\w-]+\.js$/.test(spec), `${file} imports ${spec}`).toBe(true);
    }
  });

  it('the console, the element and the SDK never import the server', () => {
    for (const file of [...sources('console/src'), ...sources('widget/src'), ...sources('sdk/src')]) {
      expect(localImports(file).filter((t) => t.startsWith('server/')), file).toEqual([]);
    }
  });
});
