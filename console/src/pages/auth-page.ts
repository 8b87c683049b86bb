import { LitElement, css, html } from 'lit';
import { api } from '../data/api';
import { href } from '../router';
import { shared } from '../styles';

/** Sign in and sign up, one form with two modes. */
export class AuthPage extends LitElement {
  static override styles = [shared, css`:host { max-width: 26rem; margin: 2rem auto; } button[type=submit] { width: 100%; margin-top: 1.25rem; padding: .6rem; }`];
  static override properties = { mode: {}, error: { state: true }, busy: { state: true } };
  declare mode: 'signin' | 'signup';
  declare error: string;
  declare busy: boolean;

  constructor() {
    super();
    this.mode = 'signin';
    this.error = '';
    this.busy = false;
  }

  private async submit(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const email = String(f.get('email') ?? '');
    const password = String(f.get('password') ?? '');
    this.busy = true;
    this.error = '';
    try {
      const me = this.mode === 'signup'
        ? await api.signUp({ email, password, name: String(f.get('name') ?? '') || undefined, organisation: String(f.get('organisation') ?? '') || undefined })
        : await api.signIn(email, password);
      this.dispatchEvent(new CustomEvent('me-changed', { detail: me, bubbles: true, composed: true }));
    } catch (err) {
      this.error = (err as Error).message;
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const up = this.mode === 'signup';
    return html`
      <div class="card">
        <h1>${up ? 'Create your account' : 'Sign in'}</h1>
        <form @submit=${this.submit}>
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="email" required />
          ${up ? html`
            <label for="name">Your name <span class="hint">(optional)</span></label>
            <input id="name" name="name" autocomplete="name" maxlength="100" />
            <label for="organisation">Organisation <span class="hint">(optional; you can add more later)</span></label>
            <input id="organisation" name="organisation" maxlength="100" />` : ''}
          <label for="password">Password ${up ? html`<span class="hint">(at least 10 characters)</span>` : ''}</label>
          <input id="password" name="password" type="password" autocomplete=${up ? 'new-password' : 'current-password'} minlength=${up ? 10 : 1} required />
          ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : ''}
          <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Please wait…' : up ? 'Create account' : 'Sign in'}</button>
        </form>
        <p class="small muted" style="margin-top:1rem">
          ${up ? html`Already have an account? <a href=${href('signin')}>Sign in</a>` : html`New here? <a href=${href('signup')}>Create an account</a>`}
        </p>
      </div>`;
  }
}
customElements.get('wsl-auth-page') ?? customElements.define('wsl-auth-page', AuthPage);
