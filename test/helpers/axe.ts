import type { Page } from 'playwright-core';

/** axe-core's WCAG checks over the whole page (it walks open shadow roots): `rule: [targets]` per violation. */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: 'node_modules/axe-core/axe.min.js' });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: Array<{ id: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
    const r = await axe.run(document);
    return r.violations.map((x) => `${x.id}: ${JSON.stringify(x.nodes.map((n) => n.target))}`);
  });
}
