import { describe, expect, it } from 'vitest';
import { explainVerifyFailure, ipFromErrmsg, settingsAdvice } from './verify-advice';

const release = { mpPage: 'pages/scan-login/index', envVersion: 'release' as const, checkPath: true };

describe('verify advice', () => {
  it('names the IP to whitelist for 40164', () => {
    const msg = 'invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist rid: 65a1';
    expect(ipFromErrmsg(msg)).toBe('203.0.113.7');
    const f = explainVerifyFailure(40164, msg, release);
    expect(f.ip).toBe('203.0.113.7');
    expect(f.advice).toContain('Add 203.0.113.7 to the IP whitelist');
  });

  it('still explains 40164 when WeChat gave no IP', () => {
    const f = explainVerifyFailure(40164, 'not in whitelist', release);
    expect(f.ip).toBeUndefined();
    expect(f.advice).toMatch(/public IP address/);
  });

  it('explains the AppID, the secret, and the page with check_path in mind', () => {
    expect(explainVerifyFailure(40013, 'invalid appid', release).title).toMatch(/AppID/);
    expect(explainVerifyFailure(40125, 'invalid appsecret', release).advice).toMatch(/AppSecret again/);
    expect(explainVerifyFailure(41030, 'invalid page', release).advice).toMatch(/Publish a version .*turn off "check page path"/);
    expect(explainVerifyFailure(41030, 'invalid page', { ...release, checkPath: false }).advice).toMatch(/Check the path/);
  });

  it('warns about check_path with trial/develop and non-release versions', () => {
    expect(settingsAdvice(release)).toEqual([]);
    const trial = settingsAdvice({ ...release, envVersion: 'trial' });
    expect(trial.join(' ')).toMatch(/turn it off/);
    expect(trial.join(' ')).toMatch(/trial list/);
    expect(settingsAdvice({ ...release, envVersion: 'develop', checkPath: false }).join(' ')).toMatch(/developers/);
  });
});
