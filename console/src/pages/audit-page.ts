import { LitElement, html } from 'lit';
import { api } from '../data/api';
import type { AuditEvent, TenantRef } from '../data/types';
import { shared } from '../styles';
import { empty, failed, loading, when } from '../components/states';

type Filter = { action?: string; actorId?: string; targetId?: string };

/** The organisation's audit log: filters, paging, CSV export and (owners) how long it is kept. */
export class AuditPage extends LitElement {
  static override styles = shared;
  static override properties = { tenant: { attribute: false }, rows: { state: true }, next: { state: true }, error: { state: true }, retention: { state: true }, filter: { state: true } };
  declare tenant: TenantRef;
  declare rows: AuditEvent[] | null;
  declare next: string | null;
  declare error: unknown;
  declare retention: number;
  declare filter: Filter;

  constructor() {
    super();
    this.rows = null;
    this.next = null;
    this.error = null;
    this.retention = 0;
    this.filter = {};
  }

  override connectedCallback() {
    super.connectedCallback();
    void this.load(false);
  }

  private async load(more: boolean) {
    try {
      const page = await api.audit(this.tenant.id, { ...this.filter, cursor: more ? this.next ?? undefined : undefined });
      this.rows = more ? [...(this.rows ?? []), ...page.data] : page.data;
      this.next = page.nextCursor;
      this.retention = page.retentionDays;
    } catch (err) {
      this.error = err;
    }
  }

  private applyFilter(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const pick = (k: string) => String(f.get(k) ?? '').trim() || undefined;
    this.filter = { action: pick('action'), actorId: pick('actorId'), targetId: pick('targetId') };
    void this.load(false);
  }

  private async saveRetention(e: SubmitEvent) {
    e.preventDefault();
    const days = Number(new FormData(e.target as HTMLFormElement).get('retention'));
    try {
      this.retention = (await api.setAuditRetention(this.tenant.id, days)).retentionDays;
    } catch (err) {
      this.error = err;
    }
  }

  override render() {
    if (this.error) return failed(this.error, () => { this.error = null; void this.load(false); });
    if (!this.rows) return loading();
    return html`
      <h1>Audit log</h1>
      <form class="card" @submit=${this.applyFilter} aria-label="Filter">
        <label for="action">Action <span class="hint">(e.g. key.created, or key. for all key actions)</span></label>
        <input id="action" name="action" .value=${this.filter.action ?? ''} />
        <label for="actorId">Actor id</label><input id="actorId" name="actorId" .value=${this.filter.actorId ?? ''} />
        <label for="targetId">Target id</label><input id="targetId" name="targetId" .value=${this.filter.targetId ?? ''} />
        <button type="submit">Filter</button>
        <a href=${api.auditCsvUrl(this.tenant.id, this.filter)} download>Export CSV</a>
      </form>
      ${this.rows.length ? html`
        <table>
          <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">IP</th></tr></thead>
          <tbody>${this.rows.map((e) => html`<tr>
            <td title=${e.at}>${when(e.at)}</td>
            <td>${e.actor.email ?? e.actor.type}</td>
            <td><code>${e.action}</code></td>
            <td>${e.target.type} <code>${e.target.id}</code></td>
            <td>${e.ip ?? ''}</td></tr>`)}</tbody>
        </table>
        ${this.next ? html`<button class="secondary" type="button" @click=${() => this.load(true)}>Show more</button>` : ''}` : empty('Nothing recorded yet for this filter.')}
      ${this.tenant.role === 'owner' ? html`
        <form class="card" @submit=${this.saveRetention}>
          <label for="retention">Keep events for (days)</label>
          <input id="retention" name="retention" type="number" min="7" max="3650" .value=${String(this.retention)} required />
          <button type="submit" class="secondary">Save</button>
        </form>` : html`<p class="small muted">Events are kept for ${this.retention} days.</p>`}`;
  }
}
customElements.get('wsl-audit-page') ?? customElements.define('wsl-audit-page', AuditPage);
