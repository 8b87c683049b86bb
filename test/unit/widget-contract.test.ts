import { describe, expect, it } from 'vitest';
import { frameSchema, type Frame } from '../../contract/sessions';
import { parseFrame, type ServerFrame } from '../../widget/src/protocol';

/**
 * The element keeps its own frame types (it ships without zod, and its package declares them),
 * so they are tied to the contract here: every frame the contract allows must be a frame the
 * element's types accept (a type error in `npm run typecheck` otherwise), and its parser must
 * keep every example of each.
 */
const asElementFrame = (f: Frame): ServerFrame => f;

const examples: Frame[] = [
  { type: 'session', session: 'nD3kQ9xZ_Lm2Wp8tYa1bCg', secret: 's'.repeat(43), expiresAt: '2026-05-04T08:17:30.000Z', qr: '/v1/sessions/nD3kQ9xZ_Lm2Wp8tYa1bCg/qr', match: '42', urlLink: 'https://wxaurl.cn/abc' },
  { type: 'scanned' },
  { type: 'success', token: 'a.b.c', user: { id: 'usr_1', openid: 'o_1', name: 'Ada' } },
  { type: 'cancelled' },
  { type: 'expired' },
  { type: 'error', code: 'session_not_found', message: 'This login session is unknown or finished' },
];

describe('the element\'s frames and the contract\'s', () => {
  it('parses every kind of frame the contract defines, unchanged', () => {
    expect(new Set(examples.map((f) => f.type))).toEqual(new Set(frameSchema.options.map((o) => o.shape.type.value)));
    for (const f of examples) {
      frameSchema.parse(f);
      expect(parseFrame(JSON.stringify(f))).toEqual(asElementFrame(f));
    }
  });
});
