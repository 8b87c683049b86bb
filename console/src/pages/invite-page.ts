import { LitElement, html } from 'lit';
import { api } from '../data/api';
import type { InvitationPreview, Me, Role } from '../data/types';
import { href, navigate } from '../router';
import { shared } from '../styles';
import { failed, loading, when } from '../components/states';
import { ROLE_SCOPE } from '../components/roles';

const article = (role: Role) => (role === 'owner' || role === 'admin' ? 'an' : 'a');

/** /console/invite#TOKEN: the token sits in the fragment, so it never reaches a server log. */
export class InvitePage extends LitElement {
  static override styles = shared;
  static override properties = { me: { attribute: false }, error: { state: true }, busy: { state: true }, preview: { state: true }, previewError: { state: true } };
  declare me: Me | null;
  declare error: string;
  declare busy: boolean;
  declare preview: InvitationPreview | null;
  declare previewError: unknown;

  constructor() {
    super();
    this.me = null;
    this.error = '';
    this.busy = false;
    this.preview = null;
    this.previewError = null;
  }

  private get token() {
    return location.hash.slice(1);
  }

  override connectedCallback() {
    super.connectedCallback();
    if (this.validToken) void this.load();
  }

  private get validToken() {
    return /^[A-Za-z0-9_-]{20,64}$/.test(this.token);
  }

  private async load() {
    this.previewError = null;
    try {
      this.preview = await api.previewInvitation(this.token);
    } catch (err) {
      this.previewError = err;
    }
  }

  private remember() {
    sessionStorage.setItem('wsl-after-signin', location.pathname + location.hash);
  }

  private async accept() {
    this.busy = true;
    this.error = '';
    try {
      const r = await api.acceptInvitation(this.token);
      const me = await api.me();
      this.dispatchEvent(new CustomEvent('me-changed', { detail: me, bubbles: true, composed: true }));
      navigate(href('t', r.tenant.id, 'apps'), true);
    } catch (err) {
      this.error = (err as Error).message;
    } finally {
      this.busy = false;
    }
  }

  private offer(p: InvitationPreview) {
    return html`<p>${p.invitedBy ? html`<strong>${p.invitedBy}</strong> invites you` : 'You are invited'} to join
      <strong data-invite-org>${p.tenant.name}</strong> as <span data-invite-role>${article(p.role)} ${p.role} (${ROLE_SCOPE[p.role]})</span>.</p>
      <p class="small muted">This link works once, until ${when(p.expiresAt)}.</p>`;
  }

  override render() {
    if (!this.validToken) {
      return html`<div class="card empty"><p>This invitation link is incomplete. Copy the whole link from the message you received.</p></div>`;
    }
    if (this.previewError) return html`<div class="card"><h1>Invitation</h1>${failed(this.previewError)}</div>`;
    if (!this.preview) return loading('Reading the invitation…');
    const p = this.preview;
    if (!this.me) {
      return html`<div class="card"><h1>Join ${p.tenant.name}</h1>${this.offer(p)}
        <p>Sign in or create an account to accept. A new account joins ${p.tenant.name} directly.</p>
        <div class="row"><a class="button" href=${href('signin')} @click=${this.remember}>Sign in</a>
        <a class="button secondary" href=${href('signup')} @click=${this.remember}>Create an account</a></div></div>`;
    }
    return html`<div class="card"><h1>Join ${p.tenant.name}</h1>${this.offer(p)}
      <p>You're signed in as <strong>${this.me.account.email}</strong>.</p>
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : ''}
      <button type="button" ?disabled=${this.busy} @click=${this.accept}>Accept and join ${p.tenant.name}</button></div>`;
  }
}
customElements.get('wsl-invite-page') ?? customElements.define('wsl-invite-page', InvitePage);
