import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config';

const dir = mkdtempSync(join(tmpdir(), 'wsl-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('configuration', () => {
  it('a bad value stops start-up with one line naming the variable and the fix', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATA_DIR: dir })).toThrow(/^PORT: .*HTTP and WebSocket port/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x', DATA_DIR: dir })).toThrow(/^DATABASE_URL: must start with postgres/);
    expect(() => loadConfig({ MASTER_KEY: 'c2hvcnQ=', DATA_DIR: dir })).toThrow(/^MASTER_KEY must be 32 random bytes.*openssl rand -base64 32/);
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dir })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dir })).toThrow(/MASTER_KEY is required in production/);
  });

  it('in development the master key is generated once into DATA_DIR and reused', () => {
    const first = loadConfig({ DATA_DIR: dir });
    const again = loadConfig({ DATA_DIR: dir });
    expect(first.masterKey.length).toBe(32);
    expect(again.masterKey.equals(first.masterKey)).toBe(true);
    expect(Buffer.from(readFileSync(join(dir, 'master.key'), 'utf8').trim(), 'base64').equals(first.masterKey)).toBe(true);
  });

  it('defaults give a working local setup', () => {
    const c = loadConfig({ DATA_DIR: dir });
    expect(c.port).toBe(3000);
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.wechatApiBase).toBe('https://api.weixin.qq.com');
    expect(loadConfig({ DATA_DIR: dir, PUBLIC_URL: 'https://login.example.com/' }).publicUrl).toBe('https://login.example.com');
  });
});
