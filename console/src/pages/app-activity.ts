import { LitElement, html } from 'lit';
import { api } from '../data/api';
import type { App, DayStats, LoginEvent, TenantRef } from '../data/types';
import { shared } from '../styles';
import { empty, failed, loading, when } from '../components/states';
import '../components/logins-chart';

interface Filters { status: string; mode: string; origin: string; from: string; to: string }

/** The logins chart and the event log with filters; new events stream in while the page is open. */
export class AppActivity extends LitElement {
  static override styles = shared;
  static override properties = {
    tenant: { attribute: false }, app: { attribute: false }, events: { state: true }, next: { state: true }, error: { state: true },
    stats: { state: true }, statsError: { state: true }, days: { state: true }, filters: { state: true }, origins: { state: true }, live: { state: true }, fresh: { state: true },
  };
  declare tenant: TenantRef;
  declare app: App;
  declare events: LoginEvent[] | null;
  declare next: string | null;
  declare error: unknown;
  declare stats: DayStats[] | null;
  declare statsError: unknown;
  declare days: number;
  declare filters: Filters;
  declare origins: string[];
  declare live: 'connecting' | 'on' | 'off';
  declare fresh: Set<string>;
  private source: EventSource | undefined;
  private statsTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.events = null;
    this.next = null;
    this.error = null;
    this.stats = null;
    this.statsError = null;
    this.days = 14;
    this.filters = { status: '', mode: '', origin: '', from: '', to: '' };
    this.origins = [];
    this.live = 'connecting';
    this.fresh = new Set();
  }

  override connectedCallback() {
    super.connectedCallback();
    void this.loadEvents();
    void this.loadStats();
    api.origins(this.tenant.id, this.app.id).then((r) => (this.origins = r.data), () => {});
    this.connect();
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.source?.close();
    clearTimeout(this.statsTimer);
  }

  /** EventSource reconnects by itself after a drop; the badge says whether updates are flowing. */
  private connect() {
    this.source = new EventSource(api.eventStreamUrl(this.tenant.id, this.app.id));
    this.source.onopen = () => (this.live = 'on');
    this.source.onerror = () => (this.live = 'off');
    this.source.addEventListener('login', (e) => {
      const ev = JSON.parse((e as MessageEvent<string>).data) as LoginEvent;
      if (this.fits(ev) && this.events && !this.events.some((x) => x.id === ev.id)) {
        this.events = [ev, ...this.events];
        this.fresh = new Set([...this.fresh, ev.id]);
      }
      // Several logins in a burst refresh the chart once.
      clearTimeout(this.statsTimer);
      this.statsTimer = setTimeout(() => void this.loadStats(), 1000);
    });
  }

  private fits(ev: LoginEvent): boolean {
    const f = this.filters;
    if (f.status && ev.status !== f.status) return false;
    if (f.mode && ev.mode !== f.mode) return false;
    if (f.origin && ev.origin !== f.origin) return false;
    if (f.to) return false; // a bounded range never includes "now"
    return true;
  }

  private async loadStats() {
    try {
      this.stats = (await api.dailyStats(this.tenant.id, this.app.id, this.days, this.filters.mode || undefined)).data;
      this.statsError = null;
    } catch (err) {
      this.statsError = err;
    }
  }

  private async loadEvents(more = false) {
    this.error = null;
    if (!more) this.events = null;
    const f = this.filters;
    const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
    try {
      const page = await api.events(this.tenant.id, this.app.id, {
        status: f.status, mode: f.mode, origin: f.origin, from: iso(f.from), to: iso(f.to), cursor: more ? this.next ?? undefined : undefined,
      });
      this.events = more ? [...(this.events ?? []), ...page.data] : page.data;
      this.next = page.nextCursor;
    } catch (err) {
      this.error = err;
    }
  }

  private applyFilters(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const g = (k: string) => String(f.get(k) ?? '');
    this.filters = { status: g('status'), mode: g('mode'), origin: g('origin'), from: g('from'), to: g('to') };
    void this.loadEvents();
    void this.loadStats();
  }

  override render() {
    const f = this.filters;
    return html`
      <div class="card">
        <div class="row spread"><h2 style="margin:0">Logins per day</h2>
          <label class="row small" style="margin:0">Last
            <select style="width:auto" @change=${(e: Event) => { this.days = Number((e.target as HTMLSelectElement).value); void this.loadStats(); }}>
              ${[7, 14, 30, 90].map((d) => html`<option value=${d} ?selected=${d === this.days}>${d} days</option>`)}
            </select></label></div>
        ${this.statsError ? failed(this.statsError, () => this.loadStats()) : this.stats ? html`<wsl-logins-chart .days=${this.stats}></wsl-logins-chart>` : loading('Loading chart…')}
      </div>
      <form class="card" @submit=${this.applyFilters} aria-label="Filter events">
        <div class="row">
          <div style="flex:1 1 8rem"><label for="status">Status</label><select id="status" name="status">
            ${['', 'succeeded', 'cancelled', 'expired', 'failed'].map((s) => html`<option value=${s} ?selected=${f.status === s}>${s || 'any'}</option>`)}</select></div>
          <div style="flex:1 1 6rem"><label for="emode">Mode</label><select id="emode" name="mode">
            ${['', 'test', 'live'].map((s) => html`<option value=${s} ?selected=${f.mode === s}>${s || 'any'}</option>`)}</select></div>
          <div style="flex:2 1 12rem"><label for="origin">Origin</label><select id="origin" name="origin">
            <option value="">any</option>${this.origins.map((o) => html`<option value=${o} ?selected=${f.origin === o}>${o}</option>`)}</select></div>
          <div style="flex:1 1 11rem"><label for="from">From</label><input id="from" name="from" type="datetime-local" .value=${f.from} /></div>
          <div style="flex:1 1 11rem"><label for="to">To</label><input id="to" name="to" type="datetime-local" .value=${f.to} /></div>
          <div style="align-self:flex-end"><button type="submit">Filter</button></div>
        </div>
      </form>
      <div class="card">
        <div class="row spread"><h2 style="margin:0">Login events</h2>
          <span class="small" aria-live="polite">${this.live === 'on' ? html`<span class="badge ok">● live</span>` : this.live === 'off' ? html`<span class="badge expired">reconnecting…</span>` : html`<span class="badge">connecting…</span>`}</span></div>
        ${this.error ? failed(this.error, () => this.loadEvents())
          : this.events === null ? loading('Loading events…')
          : this.events.length === 0 ? empty('No login events match. Events appear here as they happen.')
          : html`<div class="table-wrap"><table>
              <thead><tr><th>Time</th><th>Status</th><th>User</th><th class="opt">Origin</th><th class="opt">Browser</th><th class="opt">IP</th></tr></thead>
              <tbody>${this.events.map((e) => html`<tr data-event=${e.id} style=${this.fresh.has(e.id) ? 'background:#f0fbf4' : ''}>
                <td>${when(e.createdAt)}</td>
                <td><span class="badge ${e.status}">${e.status}</span> ${e.mode === 'test' ? html`<span class="badge test">test</span>` : ''}
                  ${e.errorCode ? html`<div class="small muted">${e.errorCode}</div>` : ''}</td>
                <td>${e.userId ? html`<code>${e.userId}</code>` : html`<span class="muted">—</span>`}</td>
                <td class="opt">${e.origin ?? '—'}</td>
                <td class="opt">${[e.browser, e.os].filter(Boolean).join(' · ') || '—'}</td>
                <td class="opt">${e.ip ?? '—'}${e.location ? html`<div class="small muted">${e.location}</div>` : ''}</td></tr>`)}</tbody>
            </table></div>
            ${this.next ? html`<p><button class="secondary" type="button" @click=${() => this.loadEvents(true)}>Load more</button></p>` : ''}`}
      </div>`;
  }
}
customElements.get('wsl-app-activity') ?? customElements.define('wsl-app-activity', AppActivity);
