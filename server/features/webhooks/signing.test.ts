import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, webhookHeaders } from './signing';

describe('Standard Webhooks signatures', () => {
  it('verify with the standardwebhooks library, under each secret of a rotation', () => {
    const [a, b] = [newWebhookSecret(), newWebhookSecret()];
    const body = JSON.stringify({ type: 'user.created', timestamp: new Date().toISOString(), data: { userId: 'usr_1' } });
    const headers = webhookHeaders([a, b], 'msg_1', body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(a).verify(body, headers)).toMatchObject({ type: 'user.created' });
    expect(new Webhook(b).verify(body, headers)).toMatchObject({ type: 'user.created' });
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(a).verify(body + ' ', headers)).toThrow();
  });

  it('matches the library byte for byte', () => {
    const secret = newWebhookSecret();
    const at = new Date('2026-03-01T10:00:00Z');
    expect(webhookHeaders([secret], 'msg_2', '{}', at)['webhook-signature']!).toBe(new Webhook(secret).sign('msg_2', at, '{}'));
  });
});
