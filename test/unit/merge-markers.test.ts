import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** A merge that commits its conflict markers (it happened to README.md once) fails here, not in a reader's eyes. */
describe('tracked files', () => {
  it('carry no merge conflict markers', () => {
    const root = resolve(import.meta.dirname, '../..');
    let hits = '';
    try {
      hits = execFileSync('git', ['grep', '-n', '-I', '-E', '^(<{7} |>{7} |={7}$)', '--', '.', ':!node_modules'], { cwd: root, encoding: 'utf8' });
    } catch (err) {
      // git grep exits 1 when nothing matches.
      if ((err as { status?: number }).status !== 1) throw err;
    }
    expect(hits).toBe('');
  });
});
