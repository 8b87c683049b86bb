import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createLogger } from '../../server/lib/logger';
import { connectRedis } from '../../server/lib/redis';

it('starts a private redis-server when nothing answers at the default address, and stops it on close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsl-embedded-'));
  try {
    // Port 1 never has a Redis: this is the "bare machine" case.
    const handle = await connectRedis({ dataDir: dir, logger: createLogger('silent'), defaultUrl: 'redis://127.0.0.1:1' });
    expect(handle.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(handle.url).not.toBe('redis://127.0.0.1:1');
    expect(await handle.client.ping()).toBe('PONG');
    expect(await handle.client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await handle.client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    const url = handle.url;
    await handle.close();
    const probe = await connectRedis({ url, dataDir: dir, logger: createLogger('silent') }).then(
      (h) => h.close().then(() => 'answered'),
      () => 'gone',
    );
    expect(probe).toBe('gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
