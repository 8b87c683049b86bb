import { LitElement, css, html } from 'lit';
import { api } from '../data/api';
import { href } from '../router';
import { shared } from '../styles';
import { describedBy, fieldError, focusFirstInvalid, formError, invalid, noProblem, problemOf, type FormProblem } from '../components/form-errors';

const FIELDS = { email: 'email', password: 'password', token: 'password' };

/**
 * "Forgot password?" (ask for a link by email) and the page the link opens (choose a new
 * password). The token is taken from `?token=` and dropped from the address bar at once.
 */
export class ResetPage extends LitElement {
  static override styles = [shared, css`:host { max-width: 26rem; margin: 2rem auto; } button[type=submit] { width: 100%; margin-top: 1.25rem; padding: .6rem; }`];
  static override properties = { mode: {}, problem: { state: true }, busy: { state: true }, done: { state: true } };
  declare mode: 'forgot' | 'reset';
  declare problem: FormProblem;
  declare busy: boolean;
  declare done: string;
  private token = '';

  constructor() {
    super();
    this.mode = 'forgot';
    this.problem = noProblem;
    this.busy = false;
    this.done = '';
  }

  override connectedCallback() {
    super.connectedCallback();
    if (this.mode === 'reset') {
      this.token = new URLSearchParams(location.search).get('token') ?? '';
      history.replaceState(null, '', location.pathname);
    }
  }

  private async submit(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    this.busy = true;
    this.problem = noProblem;
    try {
      const r = this.mode === 'forgot'
        ? await api.forgot(String(f.get('email') ?? ''))
        : await api.reset(this.token, String(f.get('password') ?? ''));
      this.done = r.message;
    } catch (err) {
      this.problem = problemOf(err, FIELDS);
      void focusFirstInvalid(this);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const forgot = this.mode === 'forgot';
    if (this.done) {
      return html`<div class="card"><h1>${forgot ? 'Check your email' : 'Password changed'}</h1><p role="status">${this.done}</p>
        <p><a href=${href('signin')}>Sign in</a></p></div>`;
    }
    return html`<div class="card">
      <h1>${forgot ? 'Forgot your password?' : 'Choose a new password'}</h1>
      <form @submit=${this.submit}>
        ${forgot ? html`
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="email" required aria-invalid=${invalid(this.problem, 'email')} aria-describedby=${describedBy(this.problem, 'email')} />${fieldError(this.problem, 'email')}`
        : html`
          <label for="password">New password <span class="hint">(at least 10 characters)</span></label>
          <input id="password" name="password" type="password" autocomplete="new-password" minlength="10" required aria-invalid=${invalid(this.problem, 'password')} aria-describedby=${describedBy(this.problem, 'password')} />${fieldError(this.problem, 'password')}`}
        ${formError(this.problem)}
        <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Please wait…' : forgot ? 'Email me a link' : 'Set the new password'}</button>
      </form>
      <p class="small muted" style="margin-top:1rem"><a href=${href('signin')}>Back to sign in</a></p>
    </div>`;
  }
}
customElements.get('wsl-reset-page') ?? customElements.define('wsl-reset-page', ResetPage);
