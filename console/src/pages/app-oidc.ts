import { LitElement, html } from 'lit';
import { call } from '../data/api';
import type { App, CreatedOidcClient, Mode, OidcClient, TenantRef } from '../data/types';
import { shared } from '../styles';
import { empty, failed, loading, when } from '../components/states';
import { describedBy, fieldError, focusFirstInvalid, formError, invalid, noProblem, problemOf, type FormProblem } from '../components/form-errors';
import '../components/copy-button';

/**
 * The app as an OpenID Provider: its issuer (what Auth.js, Keycloak & co. are given), and
 * its clients per mode. A confidential client's secret is shown once, right after creation.
 */
export class AppOidc extends LitElement {
  static override styles = shared;
  static override properties = {
    tenant: { attribute: false }, app: { attribute: false }, mode: { state: true }, clients: { state: true }, issuer: { state: true },
    error: { state: true }, created: { state: true }, problem: { state: true }, notice: { state: true },
  };
  declare tenant: TenantRef;
  declare app: App;
  declare mode: Mode;
  declare clients: OidcClient[] | null;
  declare issuer: string;
  declare error: unknown;
  declare created: CreatedOidcClient | null;
  declare problem: FormProblem;
  declare notice: string;

  constructor() {
    super();
    this.mode = 'test';
    this.clients = null;
    this.issuer = '';
    this.error = null;
    this.created = null;
    this.problem = noProblem;
    this.notice = '';
  }

  private get base() {
    return `/tenants/${encodeURIComponent(this.tenant.id)}/apps/${encodeURIComponent(this.app.id)}/oidc/clients`;
  }

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    this.error = null;
    try {
      const r = await call<{ issuer: string; data: OidcClient[] }>('GET', `${this.base}?mode=${this.mode}`);
      this.issuer = r.issuer;
      this.clients = r.data;
    } catch (err) {
      this.error = err;
    }
  }

  private switchMode(e: Event) {
    this.mode = (e.target as HTMLSelectElement).value as Mode;
    this.created = null;
    this.clients = null;
    void this.load();
  }

  private async create(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    this.problem = noProblem;
    this.notice = '';
    try {
      this.created = await call<CreatedOidcClient>('POST', `${this.base}?mode=${this.mode}`, {
        name: String(f.get('name')),
        redirect_uris: String(f.get('redirect_uris')).split(/\s+/).filter(Boolean),
        token_endpoint_auth_method: String(f.get('type')) === 'public' ? 'none' : 'client_secret_basic',
      });
      form.reset();
      await this.load();
    } catch (err) {
      this.problem = problemOf(err, { name: 'name', redirect_uris: 'redirect_uris' });
      void focusFirstInvalid(this);
    }
  }

  private async deleteClient(c: OidcClient) {
    if (!confirm(`Delete the client “${c.name}”? Sites using it can no longer log anyone in.`)) return;
    try {
      await call('DELETE', `${this.base}/${c.client_id}?mode=${this.mode}`);
      if (this.created?.client_id === c.client_id) this.created = null;
      this.notice = 'Client deleted.';
      await this.load();
    } catch (err) {
      this.problem = problemOf(err, {});
    }
  }

  private clientRow(c: OidcClient, ro: boolean) {
    return html`<tr data-client=${c.client_id}>
      <td>${c.name}<div class="small muted">${c.token_endpoint_auth_method === 'none' ? 'public (PKCE)' : 'confidential'} · ${when(c.created_at)}</div></td>
      <td><code>${c.client_id}</code> <wsl-copy .value=${c.client_id}></wsl-copy>
        ${c.client_secret_prefix ? html`<div class="small muted mono">secret ${c.client_secret_prefix}</div>` : ''}</td>
      <td>${c.redirect_uris.map((u) => html`<div><code>${u}</code></div>`)}</td>
      <td>${ro ? '' : html`<button class="link" type="button" @click=${() => this.deleteClient(c)}>Delete</button>`}</td>
    </tr>`;
  }

  override render() {
    if (this.error) return failed(this.error, () => this.load());
    if (!this.clients) return loading('Loading OpenID Connect clients…');
    const ro = this.tenant.role === 'viewer';
    return html`
      <div class="row spread">
        <p class="small muted" style="max-width:46rem">Any site that speaks OpenID Connect (Auth.js, Keycloak, Logto, Supabase…)
          can offer WeChat scan login with this issuer and a client below: authorization code flow with PKCE.</p>
        <label class="row" style="margin:0">Mode <select aria-label="Mode" style="width:auto" @change=${this.switchMode}>
          <option value="test" ?selected=${this.mode === 'test'}>test</option><option value="live" ?selected=${this.mode === 'live'}>live</option></select></label>
      </div>
      <div class="card">
        <h2 style="margin-top:0">Issuer</h2>
        <p class="row"><code data-issuer>${this.issuer}</code><wsl-copy .value=${this.issuer}></wsl-copy></p>
        <p class="small muted">Discovery: <code>${this.issuer}/.well-known/openid-configuration</code></p>
      </div>
      ${this.notice ? html`<div class="success" role="status">${this.notice}</div>` : ''}
      ${this.created?.client_secret ? html`<div class="warn" role="status"><strong>Client secret of “${this.created.name}”.</strong>
        Copy it now: it is shown only once and stored hashed.
        <p class="row"><code data-secret>${this.created.client_secret}</code><wsl-copy .value=${this.created.client_secret}></wsl-copy>
        <button class="link" type="button" @click=${() => (this.created = null)}>Hide</button></p></div>` : ''}
      <div class="card">
        <h2 style="margin-top:0">Clients <span class="badge ${this.mode}">${this.mode}</span></h2>
        ${this.clients.length === 0 ? empty(`No ${this.mode}-mode clients yet.`) : html`<div class="table-wrap"><table>
          <thead><tr><th>Name</th><th>client_id</th><th>Redirect URIs</th><th><span class="sr">Actions</span></th></tr></thead>
          <tbody>${this.clients.map((c) => this.clientRow(c, ro))}</tbody></table></div>`}
        ${ro ? '' : html`<form @submit=${this.create} aria-label="New OIDC client">
          <h3>Add a client</h3>
          <label for="oc-name">Name</label>
          <input id="oc-name" name="name" required maxlength="100" placeholder="My Next.js site"
            aria-invalid=${invalid(this.problem, 'name')} aria-describedby=${describedBy(this.problem, 'name')} />
          ${fieldError(this.problem, 'name')}
          <label for="oc-uris">Redirect URIs <span class="hint" id="oc-uris-hint">one per line, matched exactly; ${this.mode === 'live' ? 'https only' : 'http://localhost works in test mode'}</span></label>
          <textarea id="oc-uris" name="redirect_uris" required rows="3" placeholder="https://www.example.com/api/auth/callback/wechat"
            aria-invalid=${invalid(this.problem, 'redirect_uris')} aria-describedby=${describedBy(this.problem, 'redirect_uris', 'oc-uris-hint')}></textarea>
          ${fieldError(this.problem, 'redirect_uris')}
          <fieldset style="border:none;padding:0;margin:.5rem 0"><legend class="small muted">Type</legend>
            <label><input type="radio" name="type" value="confidential" checked /> Confidential: a server keeps a client secret</label>
            <label><input type="radio" name="type" value="public" /> Public: a browser or mobile app, no secret, PKCE required</label></fieldset>
          ${formError(this.problem)}
          <p><button type="submit">Add client</button></p>
        </form>`}
      </div>`;
  }
}
customElements.get('wsl-app-oidc') ?? customElements.define('wsl-app-oidc', AppOidc);
