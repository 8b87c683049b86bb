import { LitElement, css, html, svg } from 'lit';
import { call } from '../data/api';
import type { BillingPage as BillingAnswer, TenantRef } from '../data/types';
import { shared } from '../styles';
import { failed, loading, when } from '../components/states';

const PLAN_NAME = { free: 'Free', pro: 'Pro', custom: 'Custom' } as const;
/** After Checkout, Stripe's event may land a moment after the browser comes back. */
const CHECKOUT_POLLS = 40;
const POLL_MS = 1500;

/**
 * The owner's Billing page: the plan and its state, this month's live MAU by day against the
 * limit (warnings at 80 % and 100 %), Upgrade (Stripe Checkout) and Manage (the Customer
 * Portal), and the invoices. The shell shows it to owners only, and only when billing is on.
 */
export class BillingPage extends LitElement {
  static override styles = [shared, css`
    .figures { display: flex; gap: 2rem; flex-wrap: wrap; align-items: baseline; }
    .big { font-size: 1.6rem; font-weight: 700; }
    svg { width: 100%; height: auto; display: block; margin-top: .5rem; }
  `];
  static override properties = { tenant: { attribute: false }, data: { state: true }, error: { state: true }, actionError: { state: true }, waiting: { state: true }, busy: { state: true } };
  declare tenant: TenantRef;
  declare data: BillingAnswer | null;
  declare error: unknown;
  declare actionError: string;
  declare waiting: boolean;
  declare busy: boolean;
  private polls = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.data = null;
    this.error = null;
    this.actionError = '';
    this.waiting = new URLSearchParams(location.search).get('checkout') === 'success';
    this.busy = false;
  }

  override updated(changed: Map<string, unknown>) {
    if (changed.has('tenant')) void this.load();
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearTimeout(this.timer);
  }

  private async load() {
    clearTimeout(this.timer);
    try {
      this.data = await call<BillingAnswer>('GET', `/tenants/${encodeURIComponent(this.tenant.id)}/billing`);
      this.error = null;
    } catch (err) {
      this.error = err;
      return;
    }
    if (this.waiting && this.data.plan !== 'pro' && ++this.polls < CHECKOUT_POLLS) {
      this.timer = setTimeout(() => void this.load(), POLL_MS);
    } else this.waiting = false;
  }

  private async go(what: 'checkout' | 'portal') {
    this.actionError = '';
    this.busy = true;
    try {
      const { url } = await call<{ url: string }>('POST', `/tenants/${encodeURIComponent(this.tenant.id)}/billing/${what}`);
      location.assign(url);
    } catch (err) {
      this.actionError = (err as Error).message;
      this.busy = false;
    }
  }

  /** Active users so far this month, day by day, against the limit line. */
  private chart(d: BillingAnswer) {
    const [year, month] = d.month.split('-').map(Number) as [number, number];
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const byDay = new Map(d.days.map((x) => [Number(x.day.slice(8, 10)), x.users]));
    let total = 0;
    const cumulative = Array.from({ length: daysInMonth }, (_, i) => (total += byDay.get(i + 1) ?? 0));
    const today = new Date().getUTCDate();
    const max = Math.max(1, d.limit ?? 0, total);
    const W = 720, H = 180, padL = 40, padB = 22, padT = 8;
    const plotH = H - padB - padT, step = (W - padL - 6) / daysInMonth, barW = Math.max(2, step * 0.7);
    const y = (v: number) => padT + plotH - (v / max) * plotH;
    return html`
      <svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Monthly active users by day">
        <text x=${padL - 6} y=${y(max) + 4} font-size="11" text-anchor="end" fill="#5d6975">${max}</text>
        <text x=${padL - 6} y=${y(0) + 4} font-size="11" text-anchor="end" fill="#5d6975">0</text>
        ${cumulative.slice(0, today).map((v, i) => svg`<rect x=${padL + i * step} y=${y(v)} width=${barW} height=${y(0) - y(v)} fill="#07c160"><title>${d.month}-${String(i + 1).padStart(2, '0')}: ${v}</title></rect>`)}
        ${d.limit !== null ? svg`<line x1=${padL} x2=${W - 4} y1=${y(d.limit)} y2=${y(d.limit)} stroke="#d64545" stroke-dasharray="4 3" /><text x=${W - 6} y=${y(d.limit) - 4} font-size="11" text-anchor="end" fill="#d64545">limit ${d.limit}</text>` : ''}
        ${[1, 10, 20, daysInMonth].map((day) => svg`<text x=${padL + (day - 1) * step + barW / 2} y=${H - 6} font-size="11" text-anchor="middle" fill="#5d6975">${day}</text>`)}
      </svg>`;
  }

  override render() {
    if (this.error) return failed(this.error, () => void this.load());
    const d = this.data;
    if (!d) return loading('Loading billing…');
    const upgradable = d.plan === 'free';
    const subscribed = d.status !== null;
    return html`
      <h1>Billing</h1>
      ${this.waiting ? html`<div class="success" role="status">Payment received. Updating your plan…</div>` : ''}
      ${this.actionError ? html`<div class="error" role="alert">${this.actionError}</div>` : ''}
      ${d.warning === 100 ? html`<div class="error" role="alert" data-warning="100">You have reached this month's limit of ${d.limit} active users: new visitors can't log in with a live key until next month or until you upgrade. People who already logged in this month still can.</div>`
        : d.warning === 80 ? html`<div class="warn" role="status" data-warning="80">You have used ${Math.floor((d.activeUsers / d.limit!) * 100)}% of this month's ${d.limit} active users.</div>` : ''}
      ${d.status === 'past_due' && d.graceEndsAt ? html`<div class="warn" role="alert">Your last payment failed. Pro stays on until ${when(d.graceEndsAt)}; update your card under Manage.</div>` : ''}
      <div class="card">
        <div class="figures">
          <div><div class="small muted">Plan</div><div class="big" data-plan=${d.plan}>${PLAN_NAME[d.plan]}</div>
            ${d.status ? html`<span class="badge">${d.status.replace('_', ' ')}</span>` : ''}</div>
          <div><div class="small muted">Monthly active users (${d.month}, live mode)</div>
            <div class="big" data-mau>${d.activeUsers}${d.limit !== null ? html` <span class="muted">of ${d.limit}</span>` : html` <span class="small muted">no limit</span>`}</div></div>
        </div>
        ${this.chart(d)}
        <p class="row">
          ${upgradable ? html`<button type="button" ?disabled=${this.busy} @click=${() => this.go('checkout')}>Upgrade to Pro</button>` : ''}
          ${subscribed ? html`<button class="secondary" type="button" ?disabled=${this.busy} @click=${() => this.go('portal')}>Manage subscription</button>` : ''}
        </p>
        <p class="small muted">Free: ${upgradable && d.limit !== null ? `${d.limit} live monthly active users` : 'a monthly limit of live active users'} and 3 webhook endpoints per app. Pro: unlimited users, billed per active user, 20 endpoints per app. Test mode is never counted.</p>
      </div>
      <div class="card">
        <h2 style="margin-top:0">Invoices</h2>
        ${d.invoices === null ? html`<p class="muted">Invoices can't be loaded right now; try again in a minute.</p>`
          : d.invoices.length === 0 ? html`<p class="muted">No invoices yet.</p>`
          : html`<div class="table-wrap"><table>
              <thead><tr><th>Date</th><th>Number</th><th>Amount</th><th>Status</th><th><span class="sr">Link</span></th></tr></thead>
              <tbody>${d.invoices.map((i) => html`<tr data-invoice=${i.id}><td>${when(i.created)}</td><td>${i.number ?? '—'}</td>
                <td>${(i.total / 100).toFixed(2)} ${i.currency.toUpperCase()}</td><td>${i.status ?? '—'}</td>
                <td>${i.url ? html`<a href=${i.url} target="_blank" rel="noopener">View</a>` : ''}</td></tr>`)}</tbody></table></div>`}
      </div>`;
  }
}
customElements.get('wsl-billing-page') ?? customElements.define('wsl-billing-page', BillingPage);
