/** `npm run docs:snippets`: rewrites the snippet regions of the docs from docs/snippets.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMarkdown, SNIPPET_FILES } from '../docs/snippets';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const file of SNIPPET_FILES) {
  const path = join(root, file);
  const before = readFileSync(path, 'utf8');
  const after = renderMarkdown(before);
  if (after !== before) writeFileSync(path, after);
  console.log(`${after === before ? 'unchanged' : 'rewritten'}  ${file}`);
}
