import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** The console SPA, served by the server at /console/ (index.html with a fallback for deep links). */
export default defineConfig({
  root: here('.'),
  base: '/console/',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: here('../dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or modulepreload polyfill: the console's CSP allows only 'self' scripts.
    modulePreload: { polyfill: false },
  },
  server: {
    // `npx vite --config console/vite.config.ts` for UI work against a running server on :3000.
    proxy: { '/console/api': 'http://localhost:3000', '/widget.js': 'http://localhost:3000', '/v1': { target: 'http://localhost:3000', ws: true } },
  },
});
