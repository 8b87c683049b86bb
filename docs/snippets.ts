/**
 * The integration snippets, one source for README.md (steps 3 and 4), widget/README.md and
 * the console's Install page: one backend path, one body, and the token's mode checked
 * against the mode of the key the page uses. `npm run docs:snippets` rewrites the marked
 * regions of the markdown files; test/unit/snippets.test.ts fails when they drift.
 */

/** Where the page sends the token: the same path and body everywhere. */
export const BACKEND_PATH = '/api/wechat-login';

export interface SnippetValues {
  /** The service's origin, e.g. https://login.example.com. */
  server: string;
  appId: string;
  /** The publishable key the page's element uses; its mode decides which tokens the backend accepts. */
  siteKey: string;
}

/** What the docs show when no app is at hand. */
export const PLACEHOLDERS: SnippetValues = { server: 'https://login.example.com', appId: 'app_…', siteKey: 'pk_test_…' };

/** The element on the tenant's page, posting the token to its backend. */
export function pageSnippet(v: SnippetValues): string {
  return `<script type="module" src="${v.server}/widget.js"></script>

<wechat-scan-login site-key="${v.siteKey}"></wechat-scan-login>

<script type="module">
  document.querySelector('wechat-scan-login').addEventListener('login', async (e) => {
    // Your backend verifies the token and signs the visitor in.
    const res = await fetch('${BACKEND_PATH}', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: e.detail.token }),
    });
    if (res.ok) location.assign('/');
  });
</script>`;
}

/** The tenant's backend route that receives it (Node + Express, with the SDK). */
export function backendSnippet(v: SnippetValues): string {
  return `// npm install express @wechat-scan-login/verify
import express from 'express';
import { modeOfKey, verifyToken } from '@wechat-scan-login/verify';

const SITE_KEY = '${v.siteKey}'; // the key your page's element uses
const app = express();

app.post('${BACKEND_PATH}', express.json(), async (req, res) => {
  try {
    const claims = await verifyToken(req.body.token, {
      appId: '${v.appId}',
      issuer: '${v.server}/apps/${v.appId}',
      // A test key's page gets sandbox tokens, whose WeChat identity anyone can pick;
      // a live key's page accepts live tokens only.
      mode: modeOfKey(SITE_KEY),
    });
    // claims.sub is the stable user id (usr_…), claims.openid the WeChat openid.
    // Sign the visitor in your own way here (a session cookie for claims.sub).
    res.json({ userId: claims.sub });
  } catch (err) {
    res.status(401).json({ error: err.reason ?? 'invalid_token' });
  }
});`;
}

/** The same check by the service, which also makes the token single-use. */
export function curlSnippet(v: SnippetValues): string {
  return `# Or ask the service (it also refuses a token that was already used):
curl -X POST ${v.server}/v1/tokens/verify \\
  -H "Authorization: Bearer $WSL_SECRET_KEY" \\
  -H "content-type: application/json" \\
  -d '{"token":"<token from the login event>"}'`;
}

const SNIPPETS = { page: [pageSnippet, 'html'], backend: [backendSnippet, 'js'], curl: [curlSnippet, 'sh'] } as const;
export type SnippetName = keyof typeof SNIPPETS;

/**
 * Rewrites every region `<!-- snippet:NAME -->` … `<!-- /snippet:NAME -->` of a markdown
 * text with the snippet as a fenced block, indented like the opening marker (list items).
 */
export function renderMarkdown(text: string, v: SnippetValues = PLACEHOLDERS): string {
  return text.replace(/^([ \t]*)<!-- snippet:(\w+) -->\n[\s\S]*?^[ \t]*<!-- \/snippet:\2 -->$/gm, (_all, indent: string, name: string) => {
    const entry = SNIPPETS[name as SnippetName];
    if (!entry) throw new Error(`unknown snippet region: ${name}`);
    const [make, lang] = entry;
    const block = ['```' + lang, ...make(v).split('\n'), '```'].map((l) => (l ? indent + l : l)).join('\n');
    return `${indent}<!-- snippet:${name} -->\n${block}\n${indent}<!-- /snippet:${name} -->`;
  });
}

/** The markdown files that carry snippet regions, relative to the repository root. */
export const SNIPPET_FILES = ['README.md', 'widget/README.md', 'sdk/README.md'];
