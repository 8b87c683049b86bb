import { LitElement, html } from 'lit';
import { api } from '../data/api';
import type { Me } from '../data/types';
import { href, navigate } from '../router';
import { shared } from '../styles';

/** /console/invite#TOKEN: the token sits in the fragment, so it never reaches a server log. */
export class InvitePage extends LitElement {
  static override styles = shared;
  static override properties = { me: { attribute: false }, error: { state: true }, busy: { state: true } };
  declare me: Me | null;
  declare error: string;
  declare busy: boolean;

  constructor() {
    super();
    this.me = null;
    this.error = '';
    this.busy = false;
  }

  private get token() {
    return location.hash.slice(1);
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

  override render() {
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(this.token)) {
      return html`<div class="card empty"><p>This invitation link is incomplete. Copy the whole link from the message you received.</p></div>`;
    }
    if (!this.me) {
      return html`<div class="card"><h1>You're invited</h1>
        <p>Sign in or create an account to join the organisation.</p>
        <div class="row"><a class="button" href=${href('signin')} @click=${this.remember}>Sign in</a>
        <a class="button secondary" href=${href('signup')} @click=${this.remember}>Create an account</a></div></div>`;
    }
    return html`<div class="card"><h1>Join the organisation</h1>
      <p>You're signed in as <strong>${this.me.account.email}</strong>.</p>
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : ''}
      <button type="button" ?disabled=${this.busy} @click=${this.accept}>Accept invitation</button></div>`;
  }
}
customElements.get('wsl-invite-page') ?? customElements.define('wsl-invite-page', InvitePage);
