import { Router } from 'express';
import type { Mailer } from './mailer';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The development mailbox: without SMTP_URL outside production, the mail the console would
 * have sent is listed here, so sign-up and password reset work on a laptop with nothing set
 * up. JSON at `/console/dev/mailbox.json` (tests), HTML at `/console/dev/mailbox`.
 */
export function devMailboxRoutes(mailer: Mailer): Router {
  const r = Router();
  const box = mailer.devMailbox;
  if (!box) return r;
  r.get('/console/dev/mailbox.json', (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json({ data: box });
  });
  r.get('/console/dev/mailbox', (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    const items = box.map((m) => `<article><h2>${escapeHtml(m.subject)}</h2><p>To ${escapeHtml(m.to)} · ${escapeHtml(m.at)}</p>`
      + `<pre style="white-space:pre-wrap">${escapeHtml(m.text)}</pre></article>`).join('<hr>');
    res.type('html').send(`<!doctype html><meta charset="utf-8"><title>Dev mailbox</title><body style="font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto">`
      + `<h1>Development mailbox</h1><p>SMTP_URL is not set, so mail is kept here instead of sent.</p>${items || '<p>No mail yet.</p>'}</body>`);
  });
  return r;
}
