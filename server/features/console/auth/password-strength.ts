import { ZxcvbnFactory, type ZxcvbnResult } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';

/**
 * New passwords are judged by zxcvbn-ts (a maintained estimator with its own lists of common
 * passwords, names and keyboard patterns), not by a list of our own. Score 3 means roughly
 * 10^8 guesses or more, which scrypt and the sign-in limits make impractical to reach online.
 */
export const MIN_SCORE = 3;

const estimator = new ZxcvbnFactory({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs });

/** zxcvbn answers translation keys; language-common carries no English text, so these are ours. */
const WARNINGS: Record<string, string> = {
  straightRow: 'a row of keys on the keyboard is easy to guess',
  keyPattern: 'a short keyboard pattern is easy to guess',
  simpleRepeat: 'repeated characters like "aaa" are easy to guess',
  extendedRepeat: 'repeated patterns like "abcabcabc" are easy to guess',
  sequences: 'sequences like "abc" or "6543" are easy to guess',
  recentYears: 'recent years are easy to guess',
  dates: 'dates are easy to guess',
  topTen: 'it is one of the ten most used passwords',
  topHundred: 'it is one of the hundred most used passwords',
  common: 'it is a commonly used password',
  similarToCommon: 'it is too close to a commonly used password',
  wordByItself: 'a single word is easy to guess',
  namesByThemselves: 'names on their own are easy to guess',
  commonNames: 'common names are easy to guess',
  userInputs: 'it contains your email address or name',
  pwned: 'it has appeared in a data breach',
};

export type Strength = { ok: true } | { ok: false; reason: string };

/** `related` holds what the person told us (email, name), which must not carry a password. */
export function judgePassword(password: string, related: string[] = []): Strength {
  const words = related.flatMap((r) => [r.toLowerCase(), ...r.toLowerCase().split(/[@.\s_+-]+/)]).filter((w) => w.length >= 3);
  const r: ZxcvbnResult = estimator.check(password, words);
  if (r.score >= MIN_SCORE) return { ok: true };
  const why = (r.feedback.warning && WARNINGS[r.feedback.warning]) || 'it would be guessed quickly';
  return { ok: false, reason: `is too easy to guess: ${why}. Try a few unrelated words together` };
}
