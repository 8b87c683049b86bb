import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';

/**
 * Renders the chart's templates without helm (not installed here). The templates keep to a
 * subset helm renders the same way: `{{ .Values.path }}`, `{{ .Release.Name }}` and
 * `{{- toYaml .Values.path | nindent N }}`. Anything else is refused, so the chart can't drift
 * into templating this renderer would get wrong.
 */
export function renderChart(chartDir: string, releaseName: string, overrides: Record<string, unknown> = {}): Array<Record<string, any>> {
  const values = { ...(parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>), ...overrides };
  const lookup = (path: string): unknown => {
    if (path === '.Release.Name') return releaseName;
    if (!path.startsWith('.Values.')) throw new Error(`unsupported reference ${path}`);
    let v: unknown = values;
    for (const part of path.slice('.Values.'.length).split('.')) {
      v = (v as Record<string, unknown> | undefined)?.[part];
      if (v === undefined) throw new Error(`no value for ${path}`);
    }
    return v;
  };
  const docs: Array<Record<string, any>> = [];
  const dir = join(chartDir, 'templates');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const text = readFileSync(join(dir, file), 'utf8')
      .replace(/\s*\{\{-\s*toYaml\s+(\S+)\s*\|\s*nindent\s+(\d+)\s*\}\}/g, (_m, path: string, n: string) => {
        const pad = ' '.repeat(Number(n));
        return '\n' + stringify(lookup(path)).trimEnd().split('\n').map((l) => pad + l).join('\n');
      })
      .replace(/\{\{\s*(\.[A-Za-z.]+)\s*\}\}/g, (_m, path: string) => String(lookup(path)));
    if (text.includes('{{')) throw new Error(`${file}: templating beyond what the chart allows itself`);
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      docs.push(doc.toJS() as Record<string, any>);
    }
  }
  return docs;
}
