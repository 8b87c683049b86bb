import { LitElement, html } from 'lit';
import { api, ApiFailure } from '../data/api';
import type { Me } from '../data/types';
import { href } from '../router';
import { shared } from '../styles';
import { loading } from '../components/states';

/** Where the verification mail's link lands: posts its `token=` once, then says what happened. */
export class VerifyPage extends LitElement {
  static override styles = shared;
  static override properties = { me: { attribute: false }, outcome: { state: true } };
  declare me: Me | null;
  declare outcome: 'pending' | 'done' | string;

  constructor() {
    super();
    this.me = null;
    this.outcome = 'pending';
  }

  override connectedCallback() {
    super.connectedCallback();
    const token = new URLSearchParams(location.search).get('token') ?? '';
    // The token leaves the address bar (and the history) before anything else happens.
    history.replaceState(null, '', location.pathname);
    api.verifyEmail(token).then(
      () => {
        this.outcome = 'done';
        if (this.me) void api.me().then((me) => this.dispatchEvent(new CustomEvent('me-changed', { detail: me, bubbles: true, composed: true })), () => {});
      },
      (err: unknown) => (this.outcome = err instanceof ApiFailure ? err.message : 'Something went wrong; try the link again.'),
    );
  }

  override render() {
    if (this.outcome === 'pending') return loading('Confirming your email…');
    const ok = this.outcome === 'done';
    return html`<div class="card">
      <h1>${ok ? 'Email confirmed' : 'This link did not work'}</h1>
      <p role="status">${ok ? 'Thank you: this email is confirmed.' : this.outcome}</p>
      <p>${this.me ? html`<a href=${href('')}>Go to your apps</a>` : html`<a href=${href('signin')}>Sign in</a>`}</p>
    </div>`;
  }
}
customElements.get('wsl-verify-page') ?? customElements.define('wsl-verify-page', VerifyPage);
