import { html, type TemplateResult } from 'lit';

/** The three states every list and page has, looking the same everywhere. */
export const loading = (what = 'Loading…') => html`<p class="muted" role="status" aria-busy="true">${what}</p>`;

export const failed = (err: unknown, retry?: () => void): TemplateResult => html`
  <div class="error" role="alert">
    ${err instanceof Error ? err.message : 'Something went wrong.'}
    ${retry ? html` <button class="link" type="button" @click=${retry}>Try again</button>` : ''}
  </div>`;

export const empty = (text: string, action?: TemplateResult) => html`<div class="empty"><p>${text}</p>${action ?? ''}</div>`;

export function when(d: string | null | undefined): string {
  if (!d) return '—';
  const date = new Date(d);
  return date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function ago(d: string | null | undefined): string {
  if (!d) return 'never';
  const s = Math.round((Date.now() - new Date(d).getTime()) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}
