import type { EnvVersion } from '../../../../contract/common.js';

/**
 * What the console says after "Verify": WeChat's code, what it means, and what to do,
 * in words a site owner can act on without reading WeChat's docs.
 */
export interface VerifyFailure {
  errcode: number;
  errmsg: string;
  /** One sentence: what is wrong. */
  title: string;
  /** What to do about it. */
  advice: string;
  /** For 40164: the address WeChat saw, to add to the whitelist. */
  ip?: string;
}

export interface AppSettingsForAdvice {
  mpPage: string;
  envVersion: EnvVersion;
  checkPath: boolean;
}

/** WeChat's 40164 message names the caller: "invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist". */
export function ipFromErrmsg(errmsg: string): string | undefined {
  const m = /invalid ip ([0-9a-fA-F.:]+)/.exec(errmsg);
  return m?.[1];
}

/** The optional URL Link step: logins work without it; only phone visitors lose the "Open in WeChat" button. */
export function explainNoUrlLink(errcode: number, plain: string): VerifyFailure {
  return {
    errcode,
    errmsg: plain,
    title: 'No "Open in WeChat" link for visitors on phones.',
    advice: `${plain ? `${plain}. ` : ''}WeChat makes URL Links only for published mini-programs of verified (non-personal) accounts. Until it does, a visitor browsing your site on a phone is shown how to save the code and scan it from the album; logins from a computer are not affected. Verify again after publishing.`,
  };
}

export function explainVerifyFailure(errcode: number, errmsg: string, settings: AppSettingsForAdvice, fallbackPlain?: string): VerifyFailure {
  const base = { errcode, errmsg };
  switch (errcode) {
    case 40013:
      return { ...base, title: 'WeChat does not recognise this AppID.', advice: 'Copy the AppID of your mini-program from mp.weixin.qq.com → Development → Development settings (it starts with "wx"). A Official Account or Open Platform AppID will not work.' };
    case 40125:
      return { ...base, title: 'WeChat rejected the AppSecret.', advice: 'Copy the AppSecret again from mp.weixin.qq.com → Development → Development settings. If you reset it there, the old one stopped working: paste the new one here.' };
    case 40164: {
      const ip = ipFromErrmsg(errmsg);
      return {
        ...base,
        ip,
        title: 'This server\'s IP address is not on your mini-program\'s IP whitelist.',
        advice: ip
          ? `Add ${ip} to the IP whitelist at mp.weixin.qq.com → Development → Development settings → IP whitelist, then verify again.`
          : 'Add this server\'s public IP address to the IP whitelist at mp.weixin.qq.com → Development → Development settings → IP whitelist, then verify again.',
      };
    }
    case 41030: {
      const advice = settings.checkPath
        ? `The page "${settings.mpPage}" is not in the published (release) version of your mini-program. Publish a version that contains it, fix the page path (no leading "/"), or — while testing with a trial or develop version — turn off "check page path".`
        : `The page "${settings.mpPage}" does not exist. Check the path (no leading "/", e.g. pages/scan-login/index).`;
      return { ...base, title: 'WeChat cannot find the login page in your mini-program.', advice };
    }
    case 85402:
    case 40097:
      return {
        ...base,
        title: 'WeChat refused the mini-program version or code settings.',
        advice: settings.envVersion === 'release'
          ? 'The "release" version needs a published mini-program. Use "trial" or "develop" while testing (and turn off "check page path").'
          : `The "${settings.envVersion}" version must exist for this mini-program, and "check page path" only works with a published page: turn it off for ${settings.envVersion}.`,
      };
    case 45009:
      return { ...base, title: 'WeChat\'s quota for this AppID is used up for now.', advice: 'Wait a minute and verify again.' };
    default:
      return { ...base, title: fallbackPlain ?? `WeChat answered with error ${errcode}.`, advice: errmsg && errmsg !== fallbackPlain ? `WeChat said: ${errmsg}` : 'Check the settings above and try again.' };
  }
}

/** Settings that will bite later even when verification passes. */
export function settingsAdvice(settings: AppSettingsForAdvice): string[] {
  const out: string[] = [];
  if (settings.envVersion !== 'release' && settings.checkPath) {
    out.push(`"check page path" only works with the published version; with env_version "${settings.envVersion}" turn it off.`);
  }
  if (settings.envVersion === 'develop') {
    out.push('"develop" codes open only for the mini-program\'s developers: switch to "release" before going live.');
  }
  if (settings.envVersion === 'trial') {
    out.push('"trial" codes open only for people on the trial list: switch to "release" before going live.');
  }
  return out;
}
