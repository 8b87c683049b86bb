import { LitElement, html } from 'lit';
import { api } from '../data/api';
import type { Me, TenantRef, TotpEnrolment } from '../data/types';
import { shared } from '../styles';
import { failed, loading } from '../components/states';
import { describedBy, fieldError, formError, invalid, noProblem, problemOf, type FormProblem } from '../components/form-errors';

const FIELDS = { code: 'code', password: 'password' };

/** The signed-in person's email confirmation and two-factor, and (owners) the organisation's "require two-factor" rule. */
export class SecurityPage extends LitElement {
  static override styles = shared;
  static override properties = {
    me: { attribute: false }, tenant: { attribute: false }, status: { state: true }, enrolment: { state: true }, codes: { state: true },
    problem: { state: true }, error: { state: true }, note: { state: true }, require2fa: { state: true },
  };
  declare me: Me;
  declare tenant: TenantRef | undefined;
  declare status: { enabled: boolean; recoveryCodesLeft: number } | null;
  declare enrolment: TotpEnrolment | null;
  declare codes: string[];
  declare problem: FormProblem;
  declare error: unknown;
  declare note: string;
  declare require2fa: boolean | null;

  constructor() {
    super();
    this.status = null;
    this.enrolment = null;
    this.codes = [];
    this.problem = noProblem;
    this.error = null;
    this.note = '';
    this.require2fa = null;
  }

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    try {
      this.status = await api.twoFactor();
      if (this.tenant?.role === 'owner') this.require2fa = (await api.security(this.tenant.id)).require2fa;
    } catch (err) {
      this.error = err;
    }
  }

  private changed() {
    void api.me().then((me) => this.dispatchEvent(new CustomEvent('me-changed', { detail: me, bubbles: true, composed: true })), () => {});
  }

  private async act(fn: () => Promise<void>) {
    this.problem = noProblem;
    try {
      await fn();
    } catch (err) {
      this.problem = problemOf(err, FIELDS);
    }
  }

  private resend = () => this.act(async () => {
    await api.resendVerification();
    this.note = 'Sent: follow the link in the new message.';
  });

  private enrol = () => this.act(async () => {
    this.enrolment = await api.enrolTwoFactor();
  });

  private confirm = (e: SubmitEvent) => {
    e.preventDefault();
    const code = String(new FormData(e.target as HTMLFormElement).get('code') ?? '').trim();
    return this.act(async () => {
      this.codes = (await api.confirmTwoFactor(code)).recoveryCodes;
      this.enrolment = null;
      this.status = await api.twoFactor();
      this.changed();
    });
  };

  private disable = (e: SubmitEvent) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    return this.act(async () => {
      await api.disableTwoFactor(String(f.get('password') ?? ''), String(f.get('code') ?? '').trim());
      this.status = await api.twoFactor();
      this.codes = [];
      this.changed();
    });
  };

  private toggleRequire = (e: Event) => {
    const on = (e.target as HTMLInputElement).checked;
    return this.act(async () => {
      this.require2fa = (await api.setRequire2fa(this.tenant!.id, on)).require2fa;
    });
  };

  override render() {
    if (this.error) return failed(this.error, () => { this.error = null; void this.load(); });
    if (!this.status) return loading();
    const a = this.me.account;
    return html`
      <h1>Security</h1>
      <section class="card">
        <h2>Email</h2>
        ${a.emailVerified ? html`<p>${a.email} is confirmed.</p>` : html`
          <p>${a.email} is not confirmed yet: live keys, invitations and billing wait for it.</p>
          <button type="button" @click=${this.resend}>Send the link again</button>
          ${this.note ? html`<p role="status">${this.note}</p>` : ''}`}
      </section>
      <section class="card">
        <h2>Two-factor sign-in</h2>
        ${this.codes.length ? html`
          <p role="status">Two-factor is on. Keep these recovery codes somewhere safe: each works once, and they are shown only now.</p>
          <ul class="recovery-codes">${this.codes.map((c) => html`<li><code>${c}</code></li>`)}</ul>` : ''}
        ${this.status.enabled ? html`
          <p>On. ${this.status.recoveryCodesLeft} recovery codes left.</p>
          <form @submit=${this.disable}>
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required aria-invalid=${invalid(this.problem, 'password')} />${fieldError(this.problem, 'password')}
            <label for="code">Current code</label>
            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required aria-invalid=${invalid(this.problem, 'code')} aria-describedby=${describedBy(this.problem, 'code')} />${fieldError(this.problem, 'code')}
            ${formError(this.problem)}
            <button type="submit" class="secondary">Turn off two-factor</button>
          </form>`
        : this.enrolment ? html`
          <p>Scan this with an authenticator app (or type the key), then enter the code it shows.</p>
          <img src=${this.enrolment.qr} alt="QR code for your authenticator app" width="220" height="220" />
          <p class="small">Key: <code id="totp-secret">${this.enrolment.secret}</code></p>
          <form @submit=${this.confirm}>
            <label for="code">Code</label>
            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required aria-invalid=${invalid(this.problem, 'code')} aria-describedby=${describedBy(this.problem, 'code')} />${fieldError(this.problem, 'code')}
            ${formError(this.problem)}
            <button type="submit">Turn on two-factor</button>
          </form>`
        : html`<p>Off. With it on, signing in also asks for a code from your phone.</p>
          ${formError(this.problem)}
          <button type="button" @click=${this.enrol}>Set up two-factor</button>`}
      </section>
      ${this.tenant?.role === 'owner' && this.require2fa !== null ? html`
        <section class="card">
          <h2>${this.tenant.name}</h2>
          <label><input type="checkbox" .checked=${this.require2fa} ?disabled=${!this.status.enabled} @change=${this.toggleRequire} />
            Require two-factor for every member</label>
          ${this.status.enabled ? '' : html`<p class="small muted">Turn on two-factor for yourself first.</p>`}
        </section>` : ''}`;
  }
}
customElements.get('wsl-security-page') ?? customElements.define('wsl-security-page', SecurityPage);
