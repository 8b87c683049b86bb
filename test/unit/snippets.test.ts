import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKEND_PATH, backendSnippet, pageSnippet, PLACEHOLDERS, renderMarkdown, SNIPPET_FILES } from '../../docs/snippets';

const root = resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

describe('the integration snippets (docs/snippets.ts)', () => {
  it('are what the markdown files carry: run `npm run docs:snippets` after changing them', () => {
    for (const file of SNIPPET_FILES) expect(renderMarkdown(read(file)), file).toBe(read(file));
  });

  it('tell one story in README.md and widget/README.md: the page snippet and its backend', () => {
    for (const file of ['README.md', 'widget/README.md']) {
      const text = read(file);
      expect(text, file).toContain('<!-- snippet:page -->');
      expect(text, file).toContain('<!-- snippet:backend -->');
      // No other backend path or body shape survives outside the regions.
      expect(text.replace(/<!-- snippet:(\w+) -->[\s\S]*?<!-- \/snippet:\1 -->/g, ''), file).not.toMatch(/fetch\('\/(?!api\/wechat-login)[\w/]*'/);
    }
  });

  it('post the token as JSON to the path the backend serves, checked with the mode of the page\'s key', () => {
    const page = pageSnippet(PLACEHOLDERS);
    const backend = backendSnippet(PLACEHOLDERS);
    expect(page).toContain(`fetch('${BACKEND_PATH}'`);
    expect(page).toContain('JSON.stringify({ token: e.detail.token })');
    expect(backend).toContain(`app.post('${BACKEND_PATH}', express.json()`);
    expect(backend).toContain('req.body.token');
    expect(backend).toContain(`const SITE_KEY = '${PLACEHOLDERS.siteKey}'`);
    expect(backend).toContain('mode: modeOfKey(SITE_KEY)');
  });

  it('leave a region alone only when it is already right, and keep a list item\'s indentation', () => {
    const stale = '1. Step\n\n   <!-- snippet:page -->\n   old\n   <!-- /snippet:page -->\n';
    const fresh = renderMarkdown(stale);
    expect(fresh).not.toContain('old');
    expect(fresh).toContain('   <wechat-scan-login site-key="pk_test_…"></wechat-scan-login>');
    expect(renderMarkdown(fresh)).toBe(fresh);
    expect(() => renderMarkdown('<!-- snippet:nope -->\n<!-- /snippet:nope -->')).toThrow(/unknown snippet/);
  });
});
