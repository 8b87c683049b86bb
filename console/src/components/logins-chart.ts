import { LitElement, css, html, svg } from 'lit';
import type { DayStats } from '../data/types';
import { shared } from '../styles';

const SERIES = [
  { key: 'succeeded', label: 'Succeeded', color: '#07c160' },
  { key: 'cancelled', label: 'Cancelled', color: '#8a96a3' },
  { key: 'expired', label: 'Expired', color: '#f0a020' },
  { key: 'failed', label: 'Failed', color: '#d64545' },
] as const;

/**
 * Logins per day as stacked bars, drawn by hand in SVG (no chart library): succeeded at the
 * bottom, then cancelled, expired and failed, with the unsuccessful share in the summary.
 * The same numbers are in a visually hidden table for screen readers.
 */
export class LoginsChart extends LitElement {
  static override styles = [shared, css`
    :host { position: relative; }
    svg { width: 100%; height: auto; display: block; }
    .legend { display: flex; gap: 1rem; flex-wrap: wrap; font-size: .85rem; margin-top: .4rem; }
    .swatch { display: inline-block; width: .75rem; height: .75rem; border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
    .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  `];
  static override properties = { days: { attribute: false }, width: { state: true } };
  declare days: DayStats[];
  /**
   * The drawing is as wide as the element in CSS pixels, so its 11 px labels stay 11 px on a
   * phone instead of shrinking with a fixed viewBox.
   */
  declare width: number;
  private readonly resize = new ResizeObserver(([entry]) => {
    const w = Math.round(entry?.contentRect.width ?? 0);
    if (w > 0 && Math.abs(w - this.width) > 4) this.width = w;
  });

  constructor() {
    super();
    this.days = [];
    this.width = 720;
  }

  override connectedCallback() {
    super.connectedCallback();
    this.resize.observe(this);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.resize.disconnect();
  }

  override render() {
    const days = this.days;
    const totals = days.map((d) => d.succeeded + d.cancelled + d.expired + d.failed);
    const sum = totals.reduce((a, b) => a + b, 0);
    const bad = days.reduce((n, d) => n + d.cancelled + d.expired + d.failed, 0);
    const max = Math.max(1, ...totals);
    const W = Math.max(280, this.width), H = 220, padL = 34, padB = 26, padT = 8;
    const plotW = W - padL - 6, plotH = H - padB - padT;
    const step = plotW / Math.max(1, days.length);
    const barW = Math.max(2, step * 0.7);
    const ticks = [0, Math.round(max / 2), max];
    // A date label needs about 44 px.
    const labelEvery = Math.max(1, Math.ceil(days.length / Math.max(1, Math.floor(plotW / 44))));
    return html`
      <p class="small"><strong>${sum}</strong> login attempt${sum === 1 ? '' : 's'} in ${days.length} days ·
        <strong>${sum ? Math.round((bad / sum) * 100) : 0}%</strong> failed, cancelled or expired</p>
      <svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Logins per day">
        ${ticks.map((t) => {
          const y = padT + plotH - (t / max) * plotH;
          return svg`<line x1=${padL} x2=${W - 4} y1=${y} y2=${y} stroke="#e5e9ee" /><text x=${padL - 6} y=${y + 4} font-size="11" text-anchor="end" fill="#5d6975">${t}</text>`;
        })}
        ${days.map((d, i) => {
          let y = padT + plotH;
          const x = padL + i * step + (step - barW) / 2;
          const parts = SERIES.map((s) => {
            const h = (d[s.key] / max) * plotH;
            y -= h;
            return h > 0 ? svg`<rect x=${x} y=${y} width=${barW} height=${h} fill=${s.color}><title>${d.day}: ${d[s.key]} ${s.label.toLowerCase()}</title></rect>` : '';
          });
          const label = i % labelEvery === 0 ? svg`<text x=${x + barW / 2} y=${H - 8} font-size="11" text-anchor="middle" fill="#5d6975">${d.day.slice(5)}</text>` : '';
          return svg`${parts}${label}`;
        })}
      </svg>
      <div class="legend">${SERIES.map((s) => html`<span><span class="swatch" style="background:${s.color}"></span>${s.label}</span>`)}</div>
      <div class="sr"><table>
        <caption>Logins per day</caption>
        <tr><th>Day</th>${SERIES.map((s) => html`<th>${s.label}</th>`)}</tr>
        ${days.map((d) => html`<tr><td>${d.day}</td>${SERIES.map((s) => html`<td>${d[s.key]}</td>`)}</tr>`)}
      </table></div>`;
  }
}
customElements.get('wsl-logins-chart') ?? customElements.define('wsl-logins-chart', LoginsChart);
