import { LitElement, css, html } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { api } from '../data/api';
import type { ApiKey, App, Mode, TenantRef } from '../data/types';
import { BACKEND_PATH, backendSnippet, curlSnippet, pageSnippet } from '../../../docs/snippets';
import { shared } from '../styles';
import { failed, loading } from '../components/states';
import '../components/copy-button';

/** A JWT's header and claims, for showing what the preview received (not for trusting it). */
function peek(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } | null {
  try {
    const [h, p] = token.split('.');
    const dec = (s: string) => JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))));
    return { header: dec(h!), claims: dec(p!) };
  } catch {
    return null;
  }
}

let widgetLoading: Promise<unknown> | undefined;
/** The real element, from the same server that serves every customer's site. */
function loadWidget(): Promise<unknown> {
  const src = '/widget.js';
  widgetLoading ??= import(/* @vite-ignore */ src);
  return widgetLoading;
}

/** The snippet to copy, beside a live test-mode preview of the real element. */
export class AppInstall extends LitElement {
  static override styles = [shared, css`
    .preview { display: flex; flex-direction: column; align-items: center; gap: .75rem; min-height: 320px; }
    dl { display: grid; grid-template-columns: 6rem 1fr; gap: .2rem .75rem; font-size: .85rem; }
    dt { color: var(--muted); }
  `];
  static override properties = {
    tenant: { attribute: false }, app: { attribute: false }, keys: { state: true }, error: { state: true }, mode: { state: true },
    state: { state: true }, scene: { state: true }, result: { state: true }, failure: { state: true }, widgetError: { state: true }, previewKey: { state: true },
  };
  declare tenant: TenantRef;
  declare app: App;
  declare keys: ApiKey[] | null;
  declare error: unknown;
  declare mode: Mode;
  declare state: string;
  declare scene: string;
  declare result: { token: string; user: Record<string, unknown> } | null;
  declare failure: { code: string; message: string } | null;
  declare widgetError: string;
  declare previewKey: number;

  constructor() {
    super();
    this.keys = null;
    this.error = null;
    this.mode = 'test';
    this.state = 'loading';
    this.scene = '';
    this.result = null;
    this.failure = null;
    this.widgetError = '';
    this.previewKey = 0;
  }

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
    loadWidget().catch(() => (this.widgetError = 'The element could not be loaded from /widget.js (is the widget built?).'));
  }

  private async load() {
    this.error = null;
    try {
      this.keys = (await api.keys(this.tenant.id, this.app.id)).data;
    } catch (err) {
      this.error = err;
    }
  }

  private pk(mode: Mode): string | undefined {
    return this.keys?.find((k) => k.kind === 'publishable' && k.mode === mode && !k.revokedAt)?.key ?? undefined;
  }

  private onState(e: Event) {
    this.state = (e as CustomEvent<{ state: string }>).detail.state;
    if (this.state === 'ready') {
      // The sandbox phone page needs the session id, which is in the code image's URL.
      void this.updateComplete.then(() => {
        const el = this.renderRoot.querySelector('wechat-scan-login');
        const img = el?.shadowRoot?.querySelector<HTMLImageElement>('img[part=code]');
        const m = img && /\/v1\/sessions\/([A-Za-z0-9_-]{16,32})\/qr/.exec(img.src);
        this.scene = m?.[1] ?? '';
      });
    }
  }

  private onLogin(e: Event) {
    this.result = (e as CustomEvent<{ token: string; user: Record<string, unknown> }>).detail;
    this.failure = null;
  }

  private onFailed(e: Event) {
    this.failure = (e as CustomEvent<{ code: string; message: string }>).detail;
  }

  private async allowHere() {
    try {
      const updated = await api.updateApp(this.tenant.id, this.app.id, { allowedOrigins: [...this.app.allowedOrigins, location.origin] });
      this.dispatchEvent(new CustomEvent('app-changed', { detail: updated, bubbles: true, composed: true }));
      this.failure = null;
      this.previewKey++;
    } catch (err) {
      this.widgetError = (err as Error).message;
    }
  }

  /** The docs' own snippets (docs/snippets.ts), with this app's id, the chosen key and this server. */
  private snippets(pk: string) {
    const values = { server: location.origin, appId: this.app.id, siteKey: pk };
    return { page: pageSnippet(values), backend: backendSnippet(values), curl: curlSnippet(values) };
  }

  private preview(pk: string | undefined) {
    if (this.widgetError) return html`<div class="error" role="alert">${this.widgetError}</div>`;
    if (!pk) return html`<p class="muted">No test publishable key.</p>`;
    const peeked = this.result ? peek(this.result.token) : null;
    const originProblem = this.failure?.code === 'origin_not_allowed';
    return html`
      <div class="preview">
        ${keyed(this.previewKey, html`<wechat-scan-login site-key=${pk} server=${location.origin} lang="en"
          @statechange=${this.onState} @login=${this.onLogin} @failed=${this.onFailed}></wechat-scan-login>`)}
        <p class="small muted" aria-live="polite">State: <strong data-preview-state>${this.state}</strong></p>
        ${this.scene && this.state === 'ready' ? html`<p class="small">No phone handy? <a href="/sandbox/phone?scene=${encodeURIComponent(this.scene)}" target="_blank" rel="noopener">Open the sandbox phone</a> and confirm there.</p>` : ''}
        ${originProblem ? html`<div class="warn">This console's origin (<code>${location.origin}</code>) is not an allowed origin of this app.
          ${this.tenant.role === 'viewer' ? '' : html`<button class="link" type="button" @click=${this.allowHere}>Allow it</button>`}</div>`
          : this.failure ? html`<div class="error">${this.failure.message}</div>` : ''}
        ${this.result ? html`<div class="success" role="status" style="width:100%">
          <strong>Signed in.</strong> This is what your page receives in the <code>login</code> event:
          <dl>
            <dt>user</dt><dd><code data-preview-sub>${String(peeked?.claims.sub ?? this.result.user.id ?? '')}</code></dd>
            <dt>openid</dt><dd><code>${String(peeked?.claims.openid ?? '')}</code></dd>
            <dt>key id</dt><dd><code data-preview-kid>${String(peeked?.header.kid ?? '')}</code></dd>
          </dl>
          <details><summary>Token</summary><code data-preview-token>${this.result.token}</code></details>
        </div>` : ''}
      </div>`;
  }

  override render() {
    if (this.error) return failed(this.error, () => this.load());
    if (!this.keys) return loading('Loading keys…');
    const pk = this.pk(this.mode);
    const s = pk ? this.snippets(pk) : null;
    return html`
      <div class="grid2">
        <div class="card">
          <h2 style="margin-top:0">1. Add the element to your page</h2>
          <div class="row">
            <label class="inline"><input type="radio" name="mode" value="test" ?checked=${this.mode === 'test'} @change=${() => (this.mode = 'test')} /> Test key</label>
            <label class="inline"><input type="radio" name="mode" value="live" ?checked=${this.mode === 'live'} ?disabled=${!this.pk('live')} @change=${() => (this.mode = 'live')} /> Live key</label>
            ${this.pk('live') ? '' : html`<span class="small muted">(live keys appear once the WeChat AppID and AppSecret are saved)</span>`}
          </div>
          ${s ? html`
            <pre tabindex="0" aria-label="Snippet for your page" data-snippet="page">${s.page}</pre><wsl-copy data-copy="page" .value=${s.page} label="Copy snippet"></wsl-copy>
            <h2>2. Verify the token on your server</h2>
            <p class="small muted">The page posts the token to <code>POST ${BACKEND_PATH}</code>; this route accepts ${this.mode}-mode tokens only, the mode of the key above.</p>
            <pre tabindex="0" aria-label="Backend verification example" data-snippet="backend">${s.backend}</pre><wsl-copy .value=${s.backend}></wsl-copy>
            <pre tabindex="0" aria-label="Verification with curl">${s.curl}</pre><wsl-copy .value=${s.curl}></wsl-copy>` : html`<p class="muted">No ${this.mode} publishable key.</p>`}
          <p class="small muted">Allowed origins: ${this.app.allowedOrigins.length ? this.app.allowedOrigins.join(', ') : 'none yet (test mode still allows localhost)'}.</p>
        </div>
        <div class="card">
          <h2 style="margin-top:0">Live preview <span class="badge test">test mode</span></h2>
          <p class="small muted">The real element with your test key: scan the code with the sandbox phone and confirm. Test logins appear under Users and Activity.</p>
          ${this.preview(this.pk('test'))}
        </div>
      </div>`;
  }
}
customElements.get('wsl-app-install') ?? customElements.define('wsl-app-install', AppInstall);
