import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import { openApiDocument } from '../../../contract/openapi.js';
import type { Core, Feature } from '../../core';

const here = dirname(fileURLToPath(import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(here, '../../../package.json'), 'utf8')) as { version: string }).version;
/** swagger-ui-dist's files, served from our origin: the reference page needs no CDN. */
const SWAGGER_UI = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/**
 * The API reference: the OpenAPI 3.1 document generated from the contract's schemas at
 * /v1/openapi.json, and Swagger UI rendering it at /docs/api.
 */
export function createDocsFeature(core: Core): { feature: Feature } {
  const router = Router();
  // PUBLIC_URL is known only after listen in tests (PORT=0): build the document on first use.
  let cached: { url: string; body: string } | undefined;

  router.get('/v1/openapi.json', (_req, res) => {
    const url = core.config.publicUrl;
    if (cached?.url !== url) cached = { url, body: JSON.stringify(openApiDocument(url, VERSION)) };
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/json').send(cached.body);
  });

  const page = readFileSync(join(here, 'page/index.html'), 'utf8');
  router.get('/docs/api', (_req, res) => {
    // Everything the page loads is ours; Swagger UI sets inline styles on its own elements.
    res.setHeader('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
    res.type('html').send(page);
  });
  router.get('/docs/api/init.js', (_req, res) => res.sendFile(join(here, 'page/init.js')));
  router.use('/docs/api/ui', express.static(SWAGGER_UI, { index: false, maxAge: '1d' }));

  return { feature: { name: 'docs', router } };
}
