import { LitElement, html } from 'lit';
import { api } from '../data/api';
import type { ApiKey, App, Mode, SigningKey, TenantRef } from '../data/types';
import { shared } from '../styles';
import { ago, empty, failed, loading, when } from '../components/states';
import '../components/copy-button';

/** Publishable keys (public, copyable), secret keys (named, shown once, revocable), signing keys. */
export class AppKeys extends LitElement {
  static override styles = shared;
  static override properties = {
    tenant: { attribute: false }, app: { attribute: false }, keys: { state: true }, signing: { state: true }, error: { state: true },
    created: { state: true }, formError: { state: true }, rotated: { state: true }, busy: { state: true },
  };
  declare tenant: TenantRef;
  declare app: App;
  declare keys: ApiKey[] | null;
  declare signing: SigningKey[] | null;
  declare error: unknown;
  declare created: { name: string; secret: string; mode: Mode } | null;
  declare formError: string;
  declare rotated: string;
  declare busy: boolean;

  constructor() {
    super();
    this.keys = null;
    this.signing = null;
    this.error = null;
    this.created = null;
    this.formError = '';
    this.rotated = '';
    this.busy = false;
  }

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    this.error = null;
    try {
      const [k, s] = await Promise.all([api.keys(this.tenant.id, this.app.id), api.signingKeys(this.tenant.id, this.app.id)]);
      this.keys = k.data;
      this.signing = s.data;
    } catch (err) {
      this.error = err;
    }
  }

  private async create(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    this.formError = '';
    try {
      const k = await api.createKey(this.tenant.id, this.app.id, String(f.get('name')), String(f.get('mode')) as Mode);
      this.created = { name: k.name, secret: k.secret, mode: k.mode };
      form.reset();
      await this.load();
    } catch (err) {
      this.formError = (err as Error).message;
    }
  }

  private async revoke(k: ApiKey) {
    if (!confirm(`Revoke “${k.name ?? k.displayPrefix}”? Servers using it will get 401 at once.`)) return;
    try {
      await api.revokeKey(this.tenant.id, this.app.id, k.id);
      await this.load();
    } catch (err) {
      this.formError = (err as Error).message;
    }
  }

  private async rotate() {
    if (!confirm('Rotate the signing key? New tokens are signed with a new key; tokens already issued keep verifying until they expire.')) return;
    this.busy = true;
    try {
      const r = await api.rotateSigningKey(this.tenant.id, this.app.id);
      this.signing = r.data;
      this.rotated = r.kid;
    } catch (err) {
      this.formError = (err as Error).message;
    } finally {
      this.busy = false;
    }
  }

  override render() {
    if (this.error) return failed(this.error, () => this.load());
    if (!this.keys || !this.signing) return loading('Loading keys…');
    const ro = this.tenant.role === 'viewer';
    const pks = this.keys.filter((k) => k.kind === 'publishable');
    const sks = this.keys.filter((k) => k.kind === 'secret');
    return html`
      <div class="card">
        <h2 style="margin-top:0">Publishable keys</h2>
        <p class="small muted">Public: they go in your web pages, in the element's <code>site-key</code>.</p>
        ${pks.map((k) => html`<p class="row"><span class="badge ${k.mode}">${k.mode}</span><code data-pk=${k.mode}>${k.key}</code><wsl-copy .value=${k.key ?? ''}></wsl-copy></p>`)}
      </div>
      <div class="card">
        <h2 style="margin-top:0">Secret keys</h2>
        <p class="small muted">For your server only (token verification, test helpers, the users API). Shown once when created.</p>
        ${this.created ? html`<div class="warn" role="status"><strong>New ${this.created.mode} key “${this.created.name}”.</strong> Copy it now: it won't be shown again.
          <p class="row"><code data-new-secret>${this.created.secret}</code><wsl-copy .value=${this.created.secret}></wsl-copy>
          <button class="link" type="button" @click=${() => (this.created = null)}>I've saved it</button></p></div>` : ''}
        ${sks.length === 0 ? empty('No secret keys.') : html`<div class="table-wrap"><table>
          <thead><tr><th>Name</th><th>Mode</th><th>Key</th><th class="opt">Created</th><th>Last used</th><th><span class="sr">Actions</span></th></tr></thead>
          <tbody>${sks.map((k) => html`<tr>
            <td>${k.name ?? html`<span class="muted">(created with the app)</span>`}</td>
            <td><span class="badge ${k.mode}">${k.mode}</span></td>
            <td><code>${k.displayPrefix}</code></td>
            <td class="opt">${when(k.createdAt)}</td>
            <td>${ago(k.lastUsedAt)}</td>
            <td>${k.revokedAt ? html`<span class="badge failed">revoked</span>` : ro ? '' : html`<button class="link" type="button" @click=${() => this.revoke(k)}>Revoke</button>`}</td>
          </tr>`)}</tbody></table></div>`}
        ${ro ? '' : html`<form class="row" style="margin-top:1rem" @submit=${this.create} aria-label="New secret key">
          <div style="flex:2 1 12rem"><label for="keyname">Name</label><input id="keyname" name="name" required maxlength="60" placeholder="e.g. production API server" /></div>
          <div style="flex:1 1 7rem"><label for="keymode">Mode</label><select id="keymode" name="mode"><option value="test">test</option>${this.app.liveReady ? html`<option value="live">live</option>` : ''}</select></div>
          <div style="align-self:flex-end"><button type="submit">Create secret key</button></div>
        </form>`}
        ${this.formError ? html`<div class="error" role="alert">${this.formError}</div>` : ''}
      </div>
      <div class="card">
        <h2 style="margin-top:0">Token signing keys</h2>
        <p class="small muted">Tokens are ES256 JWTs; your backend finds these keys at <code>/apps/${this.app.id}/.well-known/jwks.json</code>. A retired key stays published until its tokens have expired.</p>
        ${this.rotated ? html`<div class="success" role="status">New signing key <code>${this.rotated}</code> is active.</div>` : ''}
        ${this.signing.length === 0 ? empty('No signing key yet: one is made at the first login.') : html`<div class="table-wrap"><table>
          <thead><tr><th>Key id</th><th>Status</th><th class="opt">Created</th><th>Published until</th></tr></thead>
          <tbody>${this.signing.map((k) => html`<tr><td><code>${k.kid}</code></td>
            <td>${k.retiredAt ? html`<span class="badge">retired</span>` : html`<span class="badge ok">active</span>`}</td>
            <td class="opt">${when(k.createdAt)}</td><td>${k.retiredAt ? when(k.publishUntil) : '—'}</td></tr>`)}</tbody></table></div>`}
        ${ro ? '' : html`<p><button class="secondary" type="button" ?disabled=${this.busy} @click=${this.rotate}>Rotate signing key</button></p>`}
      </div>`;
  }
}
customElements.get('wsl-app-keys') ?? customElements.define('wsl-app-keys', AppKeys);
