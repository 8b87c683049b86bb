import { LitElement, html } from 'lit';
import { api } from '../data/api';
import type { App, EndUser, Mode, TenantRef } from '../data/types';
import { shared } from '../styles';
import { empty, failed, loading, when } from '../components/states';

/**
 * End users of the app, searched on the server by openid, nickname or user id; each can be
 * exported (everything held about them, as JSON) or erased after a confirmation.
 */
export class AppUsers extends LitElement {
  static override styles = shared;
  static override properties = {
    tenant: { attribute: false }, app: { attribute: false }, users: { state: true }, next: { state: true }, error: { state: true },
    q: { state: true }, mode: { state: true }, busy: { state: true }, confirming: { state: true }, notice: { state: true }, problem: { state: true },
  };
  declare tenant: TenantRef;
  declare app: App;
  declare users: EndUser[] | null;
  declare next: string | null;
  declare error: unknown;
  declare q: string;
  declare mode: Mode | '';
  declare busy: boolean;
  /** The user whose erasure waits for a second click. */
  declare confirming: string | null;
  declare notice: string;
  declare problem: string;

  constructor() {
    super();
    this.users = null;
    this.next = null;
    this.error = null;
    this.q = '';
    this.mode = '';
    this.busy = false;
    this.confirming = null;
    this.notice = '';
    this.problem = '';
  }

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load(more = false) {
    this.error = null;
    this.busy = true;
    if (!more) this.users = null;
    try {
      const page = await api.users(this.tenant.id, this.app.id, { q: this.q, mode: this.mode, cursor: more ? this.next ?? undefined : undefined });
      this.users = more ? [...(this.users ?? []), ...page.data] : page.data;
      this.next = page.nextCursor;
    } catch (err) {
      this.error = err;
    } finally {
      this.busy = false;
    }
  }

  private search(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    this.q = String(f.get('q') ?? '').trim();
    this.mode = String(f.get('mode') ?? '') as Mode | '';
    void this.load();
  }

  private async exportUser(id: string) {
    this.problem = '';
    try {
      const data = await api.exportUser(this.tenant.id, this.app.id, id);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
      link.download = `${id}.json`;
      link.click();
      URL.revokeObjectURL(link.href);
      this.notice = `Exported ${id}.`;
    } catch (err) {
      this.problem = (err as Error).message;
    }
  }

  private async erase(id: string) {
    this.problem = '';
    try {
      await api.deleteUser(this.tenant.id, this.app.id, id);
      this.users = (this.users ?? []).filter((u) => u.id !== id);
      this.notice = `${id} was erased. Their logins still count, without their details; your endpoints get user.deleted.`;
    } catch (err) {
      this.problem = (err as Error).message;
    } finally {
      this.confirming = null;
    }
  }

  private actions(id: string) {
    const canErase = this.tenant.role !== 'viewer';
    if (this.confirming === id) {
      return html`<span role="group" aria-label="Confirm erasure">Erase ${id} for good?
        <button class="danger" type="button" data-erase-confirm @click=${() => this.erase(id)}>Erase</button>
        <button class="secondary" type="button" @click=${() => (this.confirming = null)}>Cancel</button></span>`;
    }
    return html`<button class="secondary" type="button" data-export @click=${() => this.exportUser(id)}>Export</button>
      ${canErase ? html`<button class="secondary" type="button" data-erase @click=${() => (this.confirming = id)}>Delete…</button>` : ''}`;
  }

  override render() {
    return html`
      <form class="card row" role="search" @submit=${this.search}>
        <div style="flex:3 1 14rem"><label for="q">Search</label><input id="q" name="q" type="search" .value=${this.q} placeholder="openid, nickname or usr_…" /></div>
        <div style="flex:1 1 7rem"><label for="umode">Mode</label><select id="umode" name="mode">
          <option value="">all</option><option value="test" ?selected=${this.mode === 'test'}>test</option><option value="live" ?selected=${this.mode === 'live'}>live</option></select></div>
        <div style="align-self:flex-end"><button type="submit">Search</button></div>
      </form>
      ${this.notice ? html`<div class="success" role="status">${this.notice}</div>` : ''}
      ${this.problem ? html`<div class="error" role="alert">${this.problem}</div>` : ''}
      <div class="card">
        ${this.error ? failed(this.error, () => this.load())
          : this.users === null ? loading('Loading users…')
          : this.users.length === 0 ? empty(this.q ? 'Nobody matches this search.' : 'No users yet. They appear here after their first login (try the live preview under Install).')
          : html`<div class="table-wrap"><table>
              <thead><tr><th>User</th><th>Nickname</th><th class="opt">openid</th><th>Mode</th><th class="opt">First login</th><th>Last login</th><th class="opt">Logins</th><th>Actions</th></tr></thead>
              <tbody>${this.users.map((u) => html`<tr data-user=${u.id}>
                <td><code>${u.id}</code></td><td>${u.nickname ?? html`<span class="muted">—</span>`}</td>
                <td class="opt"><code>${u.openid}</code></td><td><span class="badge ${u.mode}">${u.mode}</span></td>
                <td class="opt">${when(u.firstLoginAt)}</td><td>${when(u.lastLoginAt)}</td><td class="opt">${u.loginCount}</td><td>${this.actions(u.id)}</td></tr>`)}</tbody>
            </table></div>
            ${this.next ? html`<p><button class="secondary" type="button" ?disabled=${this.busy} @click=${() => this.load(true)}>Load more</button></p>` : ''}`}
      </div>`;
  }
}
customElements.get('wsl-app-users') ?? customElements.define('wsl-app-users', AppUsers);
