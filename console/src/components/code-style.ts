import { LitElement, html } from 'lit';
import { api, ApiFailure } from '../data/api';
import type { App, CodeLinkSetup, TenantRef } from '../data/types';
import { shared } from '../styles';
import './copy-button';

/**
 * Settings → Codes (DESIGN §11): which kind of code the app shows, and for link-style codes
 * what the owner sets up in the mini-program admin, with WeChat's check file uploaded here.
 */
export class CodeStyleCard extends LitElement {
  static override styles = shared;
  static override properties = {
    tenant: { attribute: false }, app: { attribute: false }, setup: { state: true }, busy: { state: true }, message: { state: true }, failure: { state: true },
  };
  declare tenant: TenantRef;
  declare app: App;
  declare setup: CodeLinkSetup | null;
  declare busy: boolean;
  declare message: string;
  declare failure: string;

  constructor() {
    super();
    this.setup = null;
    this.busy = false;
    this.message = '';
    this.failure = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    try {
      this.setup = await api.codeLink(this.tenant.id, this.app.id);
    } catch (err) {
      this.failure = err instanceof Error ? err.message : String(err);
    }
  }

  private async act(what: () => Promise<unknown>, done: string) {
    this.busy = true;
    this.message = '';
    this.failure = '';
    try {
      await what();
      this.message = done;
      await this.load();
    } catch (err) {
      this.failure = err instanceof ApiFailure || err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = false;
    }
  }

  private setStyle(codeStyle: string) {
    return this.act(async () => {
      const updated = await api.updateApp(this.tenant.id, this.app.id, { codeStyle });
      this.dispatchEvent(new CustomEvent('app-changed', { detail: updated, bubbles: true, composed: true }));
    }, 'Saved.');
  }

  /** WeChat gives the check file as a download: read its name and text as they are. */
  private async upload(e: Event) {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    const content = await file.text();
    input.value = '';
    return this.act(() => api.putCheckFile(this.tenant.id, this.app.id, { fileName: file.name, content }), `Check file ${file.name} uploaded.`);
  }

  override render() {
    const s = this.setup;
    const ro = this.tenant.role === 'viewer';
    const link = this.app.codeStyle === 'link';
    return html`<div class="card">
      <h2 style="margin-top:0">Codes</h2>
      <fieldset ?disabled=${ro || this.busy} style="border:0;padding:0;margin:0">
        <label for="codeStyle">Code style</label>
        <select id="codeStyle" @change=${(e: Event) => this.setStyle((e.target as HTMLSelectElement).value)}>
          <option value="wxacode" ?selected=${!link}>Mini-program code (drawn by WeChat, at most 5,000 a minute)</option>
          <option value="link" ?selected=${link}>Ordinary QR code of a link (drawn by us, no WeChat quota)</option>
        </select>
        ${s ? html`
          <p class="small">A link-style code opens your mini-program through WeChat's <strong>扫普通链接二维码打开小程序</strong>. Only
            enterprise, media, government and other organisations' mini-programs may use it, not personal ones. In the
            mini-program admin, go to 开发管理 → 开发设置 → 扫普通链接二维码打开小程序 and add:</p>
          <p>Rule (二维码规则): <code>${s.rulePrefix}</code> <wsl-copy .value=${s.rulePrefix}></wsl-copy>
            <span class="hint">(it ends with "/" so every session's link matches by sub-path)</span></p>
          <p>Page (小程序功能页面): <code>${s.page}</code></p>
          <p class="small">Test first: set the test range (测试范围) to 开发版 or 体验版, add a test link (测试链接) such as
            <code>${s.rulePrefix}AAAAAAAAAAAAAAAAAAAAAA</code>, scan it with a developer's or tester's WeChat, then publish (发布) the rule.</p>
          <label for="checkFile">WeChat's check file (校验文件) <span class="hint">(WeChat fetches it from under the rule before accepting it)</span></label>
          <input id="checkFile" type="file" accept=".txt,text/plain" @change=${this.upload} />
          ${s.checkFile ? html`<p class="small">Serving <a href=${s.checkFile.url} target="_blank" rel="noopener">${s.checkFile.fileName}</a>
            ${ro ? '' : html`<button type="button" class="secondary" @click=${() => this.act(() => api.deleteCheckFile(this.tenant.id, this.app.id), 'Check file removed.')}>Remove</button>`}</p>`
            : html`<p class="small muted">No check file yet.</p>`}` : ''}
      </fieldset>
      ${this.message ? html`<div class="success" role="status">${this.message}</div>` : ''}
      ${this.failure ? html`<div class="error" role="alert">${this.failure}</div>` : ''}
    </div>`;
  }
}
customElements.get('wsl-code-style') ?? customElements.define('wsl-code-style', CodeStyleCard);
