import { LitElement, css, html } from 'lit';
import { api } from '../data/api';
import { href } from '../router';
import { shared } from '../styles';
import { describedBy, fieldError, focusFirstInvalid, formError, invalid, noProblem, problemOf, type FormProblem } from '../components/form-errors';

const FIELDS = { email: 'email', password: 'password', name: 'name', organisation: 'organisation', code: 'code', recoveryCode: 'code' };

/**
 * Sign in and sign up, one form with two modes. Sign-up ends at "check your mail" (it never
 * signs in, so it can't tell whether the email had an account); a sign-in with two-factor on
 * asks for the code next.
 */
export class AuthPage extends LitElement {
  static override styles = [shared, css`:host { max-width: 26rem; margin: 2rem auto; } button[type=submit] { width: 100%; margin-top: 1.25rem; padding: .6rem; }`];
  static override properties = { mode: {}, problem: { state: true }, busy: { state: true }, sent: { state: true }, challenge: { state: true }, useRecovery: { state: true } };
  declare mode: 'signin' | 'signup';
  declare problem: FormProblem;
  declare busy: boolean;
  declare sent: string;
  declare challenge: string;
  declare useRecovery: boolean;

  constructor() {
    super();
    this.mode = 'signin';
    this.problem = noProblem;
    this.busy = false;
    this.sent = '';
    this.challenge = '';
    this.useRecovery = false;
  }

  private async submitCode(e: SubmitEvent) {
    e.preventDefault();
    const value = String(new FormData(e.target as HTMLFormElement).get('code') ?? '').trim();
    this.busy = true;
    this.problem = noProblem;
    try {
      const me = await api.secondFactor(this.challenge, this.useRecovery ? { recoveryCode: value } : { code: value });
      this.dispatchEvent(new CustomEvent('me-changed', { detail: me, bubbles: true, composed: true }));
    } catch (err) {
      this.problem = problemOf(err, FIELDS);
      void focusFirstInvalid(this);
    } finally {
      this.busy = false;
    }
  }

  /** The invitation a person followed before signing up (invite-page remembers where to return). */
  private get invitation(): string | undefined {
    const back = sessionStorage.getItem('wsl-after-signin') ?? '';
    const m = /^\/console\/invite#([A-Za-z0-9_-]{20,64})$/.exec(back);
    return m?.[1];
  }

  private async submit(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const email = String(f.get('email') ?? '');
    const password = String(f.get('password') ?? '');
    this.busy = true;
    this.problem = noProblem;
    try {
      if (this.mode === 'signup') {
        const invitation = this.invitation;
        const answer = await api.signUp({ email, password, name: String(f.get('name') ?? '') || undefined, organisation: String(f.get('organisation') ?? '') || undefined, invitation });
        // A new account joined with it; the link is spent, so signing in must not return to it.
        if (invitation) sessionStorage.removeItem('wsl-after-signin');
        this.sent = answer.message;
        return;
      }
      const r = await api.signIn(email, password);
      if ('next' in r) {
        this.challenge = r.challenge;
        return;
      }
      this.dispatchEvent(new CustomEvent('me-changed', { detail: r, bubbles: true, composed: true }));
    } catch (err) {
      this.problem = problemOf(err, FIELDS);
      void focusFirstInvalid(this);
    } finally {
      this.busy = false;
    }
  }

  override willUpdate(changed: Map<string, unknown>) {
    // Switching between sign-in and sign-up must not keep the other form's complaint.
    if (changed.has('mode') && changed.get('mode') !== undefined) {
      this.problem = noProblem;
      this.sent = '';
      this.challenge = '';
    }
  }

  override render() {
    const up = this.mode === 'signup';
    if (up && this.sent) {
      return html`<div class="card"><h1>Check your email</h1><p role="status">${this.sent}</p>
        <p class="small muted"><a href=${href('signin')}>Go to sign in</a></p></div>`;
    }
    if (!up && this.challenge) {
      return html`<div class="card">
        <h1>Two-factor sign-in</h1>
        <form @submit=${this.submitCode}>
          <label for="code">${this.useRecovery ? 'Recovery code' : 'Code from your authenticator app'}</label>
          <input id="code" name="code" autocomplete="one-time-code" inputmode=${this.useRecovery ? 'text' : 'numeric'} required
            aria-invalid=${invalid(this.problem, 'code')} aria-describedby=${describedBy(this.problem, 'code')} />${fieldError(this.problem, 'code')}
          ${formError(this.problem)}
          <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Please wait…' : 'Verify'}</button>
        </form>
        <p class="small muted" style="margin-top:1rem"><button class="link" type="button" @click=${() => { this.useRecovery = !this.useRecovery; this.problem = noProblem; }}>
          ${this.useRecovery ? 'Use a code from the app instead' : 'Lost your phone? Use a recovery code'}</button></p>
      </div>`;
    }
    return html`
      <div class="card">
        <h1>${up ? 'Create your account' : 'Sign in'}</h1>
        <form @submit=${this.submit}>
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="email" required aria-invalid=${invalid(this.problem, 'email')} aria-describedby=${describedBy(this.problem, 'email')} />${fieldError(this.problem, 'email')}
          ${up && this.invitation ? html`<p class="small muted">Your new account joins the organisation that invited you.</p>` : ''}
          ${up ? html`
            <label for="name">Your name <span class="hint">(optional)</span></label>
            <input id="name" name="name" autocomplete="name" maxlength="100" aria-invalid=${invalid(this.problem, 'name')} aria-describedby=${describedBy(this.problem, 'name')} />${fieldError(this.problem, 'name')}
            ${this.invitation ? '' : html`<label for="organisation">Organisation <span class="hint">(optional; you can add more later)</span></label>
            <input id="organisation" name="organisation" maxlength="100" aria-invalid=${invalid(this.problem, 'organisation')} aria-describedby=${describedBy(this.problem, 'organisation')} />${fieldError(this.problem, 'organisation')}`}` : ''}
          <label for="password">Password ${up ? html`<span class="hint">(at least 10 characters)</span>` : ''}</label>
          <input id="password" name="password" type="password" autocomplete=${up ? 'new-password' : 'current-password'} minlength=${up ? 10 : 1} required aria-invalid=${invalid(this.problem, 'password')} aria-describedby=${describedBy(this.problem, 'password')} />${fieldError(this.problem, 'password')}
          ${formError(this.problem)}
          <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Please wait…' : up ? 'Create account' : 'Sign in'}</button>
        </form>
        <p class="small muted" style="margin-top:1rem">
          ${up ? html`Already have an account? <a href=${href('signin')}>Sign in</a>` : html`<a href=${href('forgot')}>Forgot password?</a> · New here? <a href=${href('signup')}>Create an account</a>`}
        </p>
      </div>`;
  }
}
customElements.get('wsl-auth-page') ?? customElements.define('wsl-auth-page', AuthPage);
