import { LitElement, html } from 'lit';
import { api } from '../data/api';
import { ENV_VERSIONS, PHONE_NUMBER_SETTINGS, type App, type TenantRef, type VerifyAnswer } from '../data/types';
import { href, navigate } from '../router';
import { shared } from '../styles';
import { describedBy, fieldError, focusFirstInvalid, formError, invalid, noProblem, problemOf, type FormProblem } from '../components/form-errors';
import '../components/copy-button';
import '../components/code-style';

/** The form's controls carry the API's field names. */
const FIELDS = Object.fromEntries(
  ['name', 'displayName', 'logoUrl', 'allowedOrigins', 'wechatAppId', 'wechatSecret', 'mpPage', 'envVersion', 'checkPath', 'sessionTtlSeconds', 'phoneNumber'].map((f) => [f, f]),
);

const CHECK_LABEL: Record<string, string> = {
  credentials: 'AppID and AppSecret',
  access_token: 'Access token from WeChat',
  code: 'Mini-program code for the login page',
  url_link: '"Open in WeChat" link for visitors on phones (optional)',
};

/** Everything about an app that a site owner sets, the WeChat Verify button, and deleting the app. */
export class AppSettings extends LitElement {
  static override styles = shared;
  static override properties = {
    tenant: { attribute: false }, app: { attribute: false }, saving: { state: true }, saved: { state: true }, problem: { state: true }, error: { state: true },
    verifying: { state: true }, verify: { state: true }, verifyError: { state: true }, confirmDelete: { state: true }, newLive: { state: true },
  };
  declare tenant: TenantRef;
  declare app: App;
  declare saving: boolean;
  declare saved: boolean;
  declare problem: FormProblem;
  /** A failed delete. */
  declare error: string;
  declare verifying: boolean;
  declare verify: VerifyAnswer | null;
  declare verifyError: string;
  declare confirmDelete: string;
  declare newLive: { publishable: string; secret: string } | null;

  constructor() {
    super();
    this.saving = false;
    this.saved = false;
    this.problem = noProblem;
    this.error = '';
    this.verifying = false;
    this.verify = null;
    this.verifyError = '';
    this.confirmDelete = '';
    this.newLive = null;
  }

  private get readOnly() {
    return this.tenant.role === 'viewer';
  }

  private async save(e: SubmitEvent) {
    e.preventDefault();
    // Taken now: after an await, the event's currentTarget/target no longer point at the form.
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    const s = (k: string) => String(f.get(k) ?? '').trim();
    const patch: Record<string, unknown> = {
      name: s('name'),
      displayName: s('displayName') || null,
      logoUrl: s('logoUrl') || null,
      allowedOrigins: s('allowedOrigins').split(/[\s,]+/).filter(Boolean),
      wechatAppId: s('wechatAppId') || null,
      mpPage: s('mpPage'),
      envVersion: s('envVersion'),
      checkPath: f.get('checkPath') === 'on',
      sessionTtlSeconds: Number(s('sessionTtlSeconds')),
      phoneNumber: s('phoneNumber') || 'off',
    };
    // Write-only: an empty box means "keep the stored secret".
    if (s('wechatSecret')) patch.wechatSecret = s('wechatSecret');
    this.saving = true;
    this.saved = false;
    this.problem = noProblem;
    try {
      const updated = await api.updateApp(this.tenant.id, this.app.id, patch);
      if (updated.newLiveKeys) this.newLive = updated.newLiveKeys;
      form.querySelector<HTMLInputElement>('[name=wechatSecret]')!.value = '';
      this.saved = true;
      this.dispatchEvent(new CustomEvent('app-changed', { detail: updated, bubbles: true, composed: true }));
    } catch (err) {
      this.problem = problemOf(err, FIELDS);
      void focusFirstInvalid(this);
    } finally {
      this.saving = false;
    }
  }

  private async runVerify() {
    this.verifying = true;
    this.verify = null;
    this.verifyError = '';
    try {
      this.verify = await api.verify(this.tenant.id, this.app.id);
    } catch (err) {
      this.verifyError = (err as Error).message;
    } finally {
      this.verifying = false;
    }
  }

  private async deleteApp() {
    try {
      await api.deleteApp(this.tenant.id, this.app.id);
      navigate(href('t', this.tenant.id, 'apps'));
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  private verifyResult() {
    const v = this.verify;
    if (this.verifyError) return html`<div class="error" role="alert">${this.verifyError}</div>`;
    if (!v) return '';
    return html`
      <div class=${v.ok ? 'success' : 'error'} role="status">
        ${v.ok ? 'WeChat accepted these settings: live logins will work.' : 'WeChat did not accept these settings yet.'}
      </div>
      <ul>
        ${v.checks.map((c) => html`<li><span class="badge ${c.ok ? 'ok' : 'bad'}">${c.ok ? 'OK' : c.name === 'url_link' ? 'Not available' : 'Failed'}</span> ${CHECK_LABEL[c.name] ?? c.name}
          ${c.failure ? html`<p><strong>${c.failure.title}</strong> ${c.failure.advice}</p>
            ${c.failure.ip ? html`<p>IP address to add: <code>${c.failure.ip}</code> <wsl-copy .value=${c.failure.ip}></wsl-copy></p>` : ''}
            <p class="small muted">WeChat error ${c.failure.errcode}</p>` : ''}</li>`)}
      </ul>
      ${v.advice.map((a) => html`<div class="warn">${a}</div>`)}`;
  }

  /** Issue 24: whether the confirm page asks for the visitor's WeChat-verified phone number. */
  private renderPhoneNumber(a: App) {
    const choice: Record<(typeof PHONE_NUMBER_SETTINGS)[number], string> = {
      off: 'Off: never ask',
      optional: 'Optional: offer it; the visitor may log in without it',
      required: 'Required: no login without it (a refusal cancels the login)',
    };
    return html`<div class="card">
      <fieldset style="border:0;padding:0;margin:0" aria-describedby="phoneNumberCost">
        <legend><h2 style="margin:0">Visitor's phone number</h2></legend>
        <p class="small muted">The phone tells the visitor "this site asks for your phone number" before they agree. Tokens then carry
          <code>phone_number</code> and <code>phone_number_verified</code>, and the OpenID provider offers the <code>phone</code> scope.</p>
        ${PHONE_NUMBER_SETTINGS.map((v) => html`<label><input type="radio" name="phoneNumber" value=${v} ?checked=${a.phoneNumber === v} /> ${choice[v]}</label>`)}
        <p id="phoneNumberCost" class="warn small">WeChat charges your mini-program for each successful use of the phone-number button (¥0.03 at WeChat's standard price, after 1,000 free trial uses shared by all versions); the page shows the button only when this is not Off. Only verified, non-personal mini-programs can use it.</p>
        ${fieldError(this.problem, 'phoneNumber')}
      </fieldset>
    </div>`;
  }

  override render() {
    const a = this.app;
    const ro = this.readOnly;
    return html`
      ${ro ? html`<div class="warn">You're a viewer in this organisation: settings are read-only.</div>` : ''}
      ${this.newLive ? html`<div class="card"><h3>Live keys created</h3><div class="warn">Copy the live secret key now: it is shown only this once.</div>
        <p>Publishable: <code>${this.newLive.publishable}</code> <wsl-copy .value=${this.newLive.publishable}></wsl-copy></p>
        <p>Secret: <code>${this.newLive.secret}</code> <wsl-copy .value=${this.newLive.secret}></wsl-copy></p></div>` : ''}
      <form @submit=${this.save} aria-label="App settings">
        <fieldset ?disabled=${ro} style="border:0;padding:0;margin:0">
        <div class="grid2">
          <div class="card">
            <h2 style="margin-top:0">Site</h2>
            <label for="name">Name</label><input id="name" name="name" .value=${a.name} required maxlength="100" aria-invalid=${invalid(this.problem, 'name')} aria-describedby=${describedBy(this.problem, 'name')} />${fieldError(this.problem, 'name')}
            <label for="displayName">Display name <span class="hint">(shown on the phone before the visitor confirms)</span></label>
            <input id="displayName" name="displayName" .value=${a.displayName ?? ''} maxlength="60" placeholder=${a.name} aria-invalid=${invalid(this.problem, 'displayName')} aria-describedby=${describedBy(this.problem, 'displayName')} />${fieldError(this.problem, 'displayName')}
            <label for="logoUrl">Logo URL <span class="hint">(https, shown on the phone)</span></label>
            <input id="logoUrl" name="logoUrl" type="url" pattern="https://.+" title="An https:// address (the phone refuses others, in test mode too)" .value=${a.logoUrl ?? ''} placeholder="https://example.com/logo.png" aria-invalid=${invalid(this.problem, 'logoUrl')} aria-describedby=${describedBy(this.problem, 'logoUrl')} />${fieldError(this.problem, 'logoUrl')}
            <label for="allowedOrigins">Allowed origins <span class="hint">(one per line; https://*.example.com covers subdomains only; test mode also allows localhost)</span></label>
            <textarea id="allowedOrigins" name="allowedOrigins" .value=${a.allowedOrigins.join('\n')} aria-invalid=${invalid(this.problem, 'allowedOrigins')} aria-describedby=${describedBy(this.problem, 'allowedOrigins')}></textarea>${fieldError(this.problem, 'allowedOrigins')}
            <label for="sessionTtlSeconds">Code lifetime <span class="hint">(seconds before the code expires, 30–600)</span></label>
            <input id="sessionTtlSeconds" name="sessionTtlSeconds" type="number" min="30" max="600" .value=${String(a.sessionTtlSeconds)} required aria-invalid=${invalid(this.problem, 'sessionTtlSeconds')} aria-describedby=${describedBy(this.problem, 'sessionTtlSeconds')} />${fieldError(this.problem, 'sessionTtlSeconds')}
          </div>
          <div class="card">
            <h2 style="margin-top:0">WeChat mini-program <span class="badge ${a.liveReady ? 'live' : 'test'}">${a.liveReady ? 'live ready' : 'test mode only'}</span></h2>
            <p class="small muted">Test mode works without these. Live mode needs your own mini-program with the scan-login page.</p>
            <label for="wechatAppId">AppID</label>
            <input id="wechatAppId" name="wechatAppId" .value=${a.wechatAppId ?? ''} placeholder="wx0123456789abcdef" autocomplete="off" aria-invalid=${invalid(this.problem, 'wechatAppId')} aria-describedby=${describedBy(this.problem, 'wechatAppId')} />${fieldError(this.problem, 'wechatAppId')}
            <label for="wechatSecret">AppSecret <span class="hint">${a.hasWechatSecret ? '(saved; never shown again. Type a new one to replace it)' : '(write-only: stored encrypted, never shown again)'}</span></label>
            <input id="wechatSecret" name="wechatSecret" type="password" autocomplete="new-password" placeholder=${a.hasWechatSecret ? '••••••••••••••••' : ''} aria-invalid=${invalid(this.problem, 'wechatSecret')} aria-describedby=${describedBy(this.problem, 'wechatSecret')} />${fieldError(this.problem, 'wechatSecret')}
            <label for="mpPage">Page <span class="hint">(path of the confirm page, without a leading /)</span></label>
            <input id="mpPage" name="mpPage" .value=${a.mpPage} required aria-invalid=${invalid(this.problem, 'mpPage')} aria-describedby=${describedBy(this.problem, 'mpPage')} />${fieldError(this.problem, 'mpPage')}
            <label for="envVersion">Version (env_version)</label>
            <select id="envVersion" name="envVersion" aria-invalid=${invalid(this.problem, 'envVersion')} aria-describedby=${describedBy(this.problem, 'envVersion')}>
              ${ENV_VERSIONS.map((v) => html`<option value=${v} ?selected=${a.envVersion === v}>${v}</option>`)}
            </select>${fieldError(this.problem, 'envVersion')}
            <label><input type="checkbox" name="checkPath" ?checked=${a.checkPath} /> Check page path <span class="hint">(check_path: needs the page in the published version; turn off for trial/develop)</span></label>
            ${(a.advice ?? []).map((t) => html`<div class="warn small">${t}</div>`)}
          </div>
        </div>
        ${this.renderPhoneNumber(a)}
        ${formError(this.problem)}
        ${this.saved ? html`<div class="success" role="status">Saved.</div>` : ''}
        ${ro ? '' : html`<p><button type="submit" ?disabled=${this.saving}>${this.saving ? 'Saving…' : 'Save settings'}</button></p>`}
        </fieldset>
      </form>
      <div class="card">
        <h2 style="margin-top:0">Verify with WeChat</h2>
        <p class="small muted">Asks WeChat for an access token with your AppID and AppSecret, then for a code for the page above, and explains anything that fails.</p>
        ${ro ? '' : html`<button type="button" class="secondary" ?disabled=${this.verifying || !a.liveReady} @click=${this.runVerify}>${this.verifying ? 'Verifying…' : 'Verify'}</button>
          ${a.liveReady ? '' : html`<span class="small muted"> Save an AppID and AppSecret first.</span>`}`}
        ${this.verifyResult()}
      </div>
      <wsl-code-style .tenant=${this.tenant} .app=${a}></wsl-code-style>
      ${ro ? '' : html`
        <div class="card">
          <h2 style="margin-top:0">Delete this app</h2>
          <p class="small">Its keys stop working at once, and its users and activity are deleted. This can't be undone.</p>
          <label for="confirm">Type <strong>${a.name}</strong> to confirm</label>
          <input id="confirm" .value=${this.confirmDelete} @input=${(e: Event) => (this.confirmDelete = (e.target as HTMLInputElement).value)} autocomplete="off" />
          ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : ''}
          <p><button class="danger" type="button" ?disabled=${this.confirmDelete !== a.name} @click=${this.deleteApp}>Delete app</button></p>
        </div>`}`;
  }
}
customElements.get('wsl-app-settings') ?? customElements.define('wsl-app-settings', AppSettings);
