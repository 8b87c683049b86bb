import { LitElement, html } from 'lit';
import { live } from 'lit/directives/live.js';
import { api } from '../data/api';
import type { Invitation, Me, Member, Role, TenantRef } from '../data/types';
import { shared } from '../styles';
import { href } from '../router';
import { empty, failed, loading, when } from '../components/states';
import { ROLE_SCOPE } from '../components/roles';
import '../components/copy-button';

const roleText = (r: Role) => `${r.charAt(0).toUpperCase()}${r.slice(1)} — ${ROLE_SCOPE[r]}`;

/** Members and roles, invitation links, and the organisation's name. Only owners change them. */
export class TeamPage extends LitElement {
  static override styles = shared;
  static override properties = {
    tenant: { attribute: false }, me: { attribute: false }, members: { state: true }, invites: { state: true },
    error: { state: true }, actionError: { state: true }, link: { state: true },
  };
  declare tenant: TenantRef;
  declare me: Me;
  declare members: Member[] | null;
  declare invites: Invitation[] | null;
  declare error: unknown;
  declare actionError: string;
  declare link: string;

  constructor() {
    super();
    this.members = null;
    this.invites = null;
    this.error = null;
    this.actionError = '';
    this.link = '';
  }

  override updated(changed: Map<string, unknown>) {
    if (changed.has('tenant')) void this.load();
  }

  private async load() {
    this.error = null;
    try {
      const [m, i] = await Promise.all([api.members(this.tenant.id), api.invitations(this.tenant.id)]);
      this.members = m.data;
      this.invites = i.data;
    } catch (err) {
      this.error = err;
    }
  }

  private async act(fn: () => Promise<unknown>) {
    this.actionError = '';
    try {
      await fn();
    } catch (err) {
      this.actionError = (err as Error).message;
    }
    // Also after a refusal: controls the person changed (a role picker) show what is stored again.
    await this.load();
    this.requestUpdate();
  }

  private invite(e: SubmitEvent) {
    e.preventDefault();
    const role = String(new FormData(e.target as HTMLFormElement).get('role')) as Role;
    void this.act(async () => (this.link = (await api.invite(this.tenant.id, role)).url));
  }

  private rename(e: SubmitEvent) {
    e.preventDefault();
    const name = String(new FormData(e.target as HTMLFormElement).get('name'));
    void this.act(async () => {
      await api.renameTenant(this.tenant.id, name);
      this.dispatchEvent(new CustomEvent('me-changed', { detail: await api.me(), bubbles: true, composed: true }));
    });
  }

  override render() {
    if (this.error) return failed(this.error, () => this.load());
    if (!this.members || !this.invites) return loading('Loading team…');
    const owner = this.tenant.role === 'owner';
    return html`
      <h1>Team</h1>
      ${owner ? '' : html`<p class="muted">You're ${this.tenant.role === 'admin' ? 'an admin' : 'a viewer'} here; only owners manage members.</p>`}
      ${this.actionError ? html`<div class="error" role="alert">${this.actionError}</div>` : ''}
      <div class="card">
        <h2 style="margin-top:0">Members</h2>
        <div class="table-wrap"><table>
          <thead><tr><th>Person</th><th>Role</th><th class="opt">Joined</th><th><span class="sr">Actions</span></th></tr></thead>
          <tbody>${this.members.map((m) => html`<tr data-member=${m.email}>
            <td>${m.name ? html`${m.name}<div class="small muted">${m.email}</div>` : m.email}${m.accountId === this.me.account.id ? html` <span class="badge">you</span>` : ''}</td>
            <td>${owner ? html`<select aria-label="Role of ${m.email}" .value=${live(m.role)} @change=${(e: Event) => this.act(() => api.setRole(this.tenant.id, m.accountId, (e.target as HTMLSelectElement).value as Role))}>
                ${(['owner', 'admin', 'viewer'] as const).map((r) => html`<option value=${r} ?selected=${m.role === r}>${r}</option>`)}</select>`
              : html`<span class="badge">${m.role}</span>`}</td>
            <td class="opt">${when(m.joinedAt)}</td>
            <td>${owner && m.accountId !== this.me.account.id ? html`<button class="link" type="button"
              @click=${() => confirm(`Remove ${m.email} from ${this.tenant.name}?`) && this.act(() => api.removeMember(this.tenant.id, m.accountId))}>Remove</button>` : ''}</td>
          </tr>`)}</tbody></table></div>
      </div>
      ${owner ? html`
        <div class="card">
          <h2 style="margin-top:0">Invite someone</h2>
          <form class="row" @submit=${this.invite}>
            <div style="flex:1 1 16rem"><label for="role">Role</label><select id="role" name="role">
              ${(['viewer', 'admin', 'owner'] as const).map((r) => html`<option value=${r}>${roleText(r)}</option>`)}</select></div>
            <div style="align-self:flex-end"><button type="submit">Create invitation link</button></div>
          </form>
          ${this.link ? html`<div class="success" role="status"><p>Send this link to the person you invite. It works once, for 7 days.</p>
            <p class="row"><code data-invite-link>${this.link}</code><wsl-copy .value=${this.link}></wsl-copy></p></div>` : ''}
          <h3>Open invitations</h3>
          ${this.invites.length === 0 ? empty('No open invitations.') : html`<ul>${this.invites.map((i) => html`<li>${i.role}, expires ${when(i.expiresAt)}
            ${i.createdBy ? html`<span class="muted small">by ${i.createdBy}</span>` : ''}
            <button class="link" type="button" @click=${() => this.act(() => api.revokeInvitation(this.tenant.id, i.id))}>Revoke</button></li>`)}</ul>`}
        </div>
        <form class="card" @submit=${this.rename}>
          <h2 style="margin-top:0">Organisation</h2>
          <label for="tname">Name</label><input id="tname" name="name" .value=${this.tenant.name} required maxlength="100" />
          <p><button class="secondary" type="submit">Rename</button></p>
        </form>` : ''}
      <p class="small muted">Another client or project? <a href=${href('organisations', 'new')}>Create an organisation</a> with its own apps and team.</p>`;
  }
}
customElements.get('wsl-team-page') ?? customElements.define('wsl-team-page', TeamPage);
