import { LitElement, css, html } from 'lit';
import { api } from '../data/api';
import { href } from '../router';
import { shared } from '../styles';
import { describedBy, fieldError, focusFirstInvalid, formError, invalid, noProblem, problemOf, type FormProblem } from '../components/form-errors';

const FIELDS = { email: 'email', password: 'password', name: 'name', organisation: 'organisation' };

/** Sign in and sign up, one form with two modes. */
export class AuthPage extends LitElement {
  static override styles = [shared, css`:host { max-width: 26rem; margin: 2rem auto; } button[type=submit] { width: 100%; margin-top: 1.25rem; padding: .6rem; }`];
  static override properties = { mode: {}, problem: { state: true }, busy: { state: true } };
  declare mode: 'signin' | 'signup';
  declare problem: FormProblem;
  declare busy: boolean;

  constructor() {
    super();
    this.mode = 'signin';
    this.problem = noProblem;
    this.busy = false;
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
      const invitation = this.mode === 'signup' ? this.invitation : undefined;
      const me = this.mode === 'signup'
        ? await api.signUp({ email, password, name: String(f.get('name') ?? '') || undefined, organisation: String(f.get('organisation') ?? '') || undefined, invitation })
        : await api.signIn(email, password);
      // Joined already: don't go back to the (now used) invitation link.
      if (invitation) sessionStorage.removeItem('wsl-after-signin');
      this.dispatchEvent(new CustomEvent('me-changed', { detail: me, bubbles: true, composed: true }));
    } catch (err) {
      this.problem = problemOf(err, FIELDS);
      void focusFirstInvalid(this);
    } finally {
      this.busy = false;
    }
  }

  override willUpdate(changed: Map<string, unknown>) {
    // Switching between sign-in and sign-up must not keep the other form's complaint.
    if (changed.has('mode') && changed.get('mode') !== undefined) this.problem = noProblem;
  }

  override render() {
    const up = this.mode === 'signup';
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
          ${up ? html`Already have an account? <a href=${href('signin')}>Sign in</a>` : html`New here? <a href=${href('signup')}>Create an account</a>`}
        </p>
      </div>`;
  }
}
customElements.get('wsl-auth-page') ?? customElements.define('wsl-auth-page', AuthPage);
