import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const out = here('../dist/widget');

/**
 * Full minification. Vite keeps whitespace in ES library builds, and the 10 KB budget wants
 * more: `__`-prefixed members (the element's private fields; Lit's own are already short) are
 * renamed too, as Lit's production guide suggests.
 */
function minify(): Plugin {
  return {
    name: 'wsl-minify',
    apply: 'build',
    // generateBundle, not renderChunk: Vite's own ES-library pass would re-indent the result.
    async generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type != 'chunk') continue;
        // Explicit `$a`, `$b`… names: esbuild's own picks (`e`, `s`…) can equal names Lit's
        // minified classes already use on the same element instance.
        const names = [...new Set(chunk.code.match(/\b__[a-z]\w*/g))];
        const mangleCache = Object.fromEntries(names.map((n, i) => [n, `$${i.toString(36)}`]));
        const opts = { minify: true, mangleProps: /^__[a-z]/, mangleCache, format: 'esm', target: 'es2022', legalComments: 'none', charset: 'utf8' } as const;
        chunk.code = (await transform(chunk.code, opts)).code;
      }
    },
  };
}

/**
 * What each part costs, printed by every build: each module alone, minified and gzipped (gzip
 * shares a dictionary across modules, so the parts add up to more than the whole), and the
 * whole bundle as shipped, against the 10 KB budget.
 */
function sizeReport(): Plugin {
  const gz = (s: string) => gzipSync(s, { level: 9 }).length;
  return {
    name: 'wsl-size-report',
    apply: 'build',
    enforce: 'post',
    async generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type != 'chunk') continue;
        const rows: Array<[string, number, number]> = [];
        for (const [id, m] of Object.entries(chunk.modules)) {
          if (!m.code) continue;
          const min = (await transform(m.code, { minify: true, format: 'esm', target: 'es2022', legalComments: 'none', charset: 'utf8' })).code;
          const name = id.includes('/node_modules/') ? id.slice(id.lastIndexOf('/node_modules/') + 14) : id.slice(id.indexOf('/widget/') + 1);
          rows.push([name, min.length, gz(min)]);
        }
        rows.sort((a, b) => b[2] - a[2]);
        const lines = rows.map(([n, min, g]) => `  ${String(g).padStart(6)} B gz  ${String(min).padStart(6)} B min  ${n}`);
        const total = gz(chunk.code);
        console.log(`widget size report: ${chunk.fileName} ${chunk.code.length} B min, ${total} B min+gzip (budget 10240 B)\n${lines.join('\n')}`);
      }
    },
  };
}

/** Lit keeps css`` and html`` text as written; whitespace and comments there are dead weight. */
export function minifyCss(text: string): string {
  return text
    .replace(/\/\*[^]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/ ?([{};:,>]) ?/g, '$1')
    .replace(/;}/g, '}')
    .trim();
}

function compactStyles(): Plugin {
  return {
    name: 'wsl-compact-styles',
    transform(code, id) {
      if (id.endsWith('/widget/src/styles.ts'))
        return { code: code.replace(/css`([^`]*)`/g, (_m, body: string) => `css\`${minifyCss(body)}\``), map: null };
      // Indentation between tags of html`` templates (text nodes nobody sees).
      if (id.endsWith('/widget/src/element.ts')) return { code: code.replace(/([>}])\s*\n\s*(?=[<$])/g, '$1').replace(/\n\s*(?=<\/)/g, ''), map: null };
      return null;
    },
  };
}

/** Declarations for npm consumers, the package manifest and README, next to the bundle: `cd dist/widget && npm publish`. */
function declarations(): Plugin {
  return {
    name: 'wsl-declarations',
    apply: 'build',
    closeBundle() {
      const r = spawnSync(process.execPath, [here('../node_modules/typescript/bin/tsc'), '-p', here('tsconfig.build.json')], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error('widget: type declarations failed');
      copyFileSync(here('package.json'), `${out}/package.json`);
      copyFileSync(here('README.md'), `${out}/README.md`);
    },
  };
}

/** One ES module, Lit bundled in: `<script type="module" src=".../widget.js">` needs nothing else. */
export default defineConfig({
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: out,
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    lib: { entry: here('src/index.ts'), formats: ['es'], fileName: () => 'widget.js' },
  },
  plugins: [compactStyles(), minify(), sizeReport(), declarations()],
});
