import { Writable } from 'node:stream';
import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/lib/logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('info', 'test', stream), text: () => lines.join('') };
}

describe('logs never carry secrets', () => {
  it('keeps the query of a failed database call but not its bound values', () => {
    const { logger, text } = capture();
    const hash = 'scrypt$17$8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
    const csrf = 'csrf-Zx8dPq2LmN4vB7cR1tY6wE3s';
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const err = new DrizzleQueryError('insert into "console_sessions" ("token_hash", "csrf_token") values ($1, $2)', [hash, csrf], cause);
    // What server/lib/http.ts's error handler does with an unexpected error.
    logger.error({ err, path: '/console/api/auth/signin' }, 'unhandled error');
    const out = text();
    expect(out).toContain('insert into \\"console_sessions\\"');
    expect(out).toContain('ECONNREFUSED');
    expect(out).not.toContain(hash);
    expect(out).not.toContain(csrf);
  });

  it('redacts authorization and cookie headers and secret-named fields', () => {
    const { logger, text } = capture();
    logger.info({ req: { headers: { authorization: 'Bearer sk_test_abcdefghijklmnop', cookie: 'wsl_console=abc123' } }, secret: 'whsec_xyz', password: 'hunter22hunter22' }, 'x');
    const out = text();
    for (const s of ['sk_test_abcdefghijklmnop', 'wsl_console=abc123', 'whsec_xyz', 'hunter22hunter22']) expect(out).not.toContain(s);
  });
});
