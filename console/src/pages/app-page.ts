import { LitElement, html } from 'lit';
import { api } from '../data/api';
import type { App, TenantRef } from '../data/types';
import { APP_TABS, href, type AppTab } from '../router';
import { shared } from '../styles';
import { failed, loading } from '../components/states';
import { titlePage } from '../page-title';
import './app-settings';
import './app-keys';
import './app-install';
import './app-users';
import './app-activity';
import './app-webhooks';
import './app-oidc';

const TAB_LABEL: Record<AppTab, string> = { settings: 'Settings', keys: 'Keys', install: 'Install', users: 'Users', activity: 'Activity', webhooks: 'Webhooks', oidc: 'OpenID Connect' };

/** One app: its tabs share the loaded record; a tab that edits it hands back the new one. */
export class AppPage extends LitElement {
  static override styles = shared;
  static override properties = { tenant: { attribute: false }, appId: {}, tab: {}, app: { state: true }, error: { state: true } };
  declare tenant: TenantRef;
  declare appId: string;
  declare tab: AppTab;
  declare app: App | null;
  declare error: unknown;

  constructor() {
    super();
    this.app = null;
    this.error = null;
    this.addEventListener('app-changed', (e) => (this.app = (e as CustomEvent<App>).detail));
  }

  override updated(changed: Map<string, unknown>) {
    if (changed.has('appId') || changed.has('tenant')) void this.load();
    if (this.app && (changed.has('app') || changed.has('tab'))) titlePage(TAB_LABEL[this.tab], this.app.name);
  }

  private async load() {
    this.error = null;
    if (this.app?.id !== this.appId) this.app = null;
    try {
      this.app = await api.app(this.tenant.id, this.appId);
    } catch (err) {
      this.error = err;
    }
  }

  private panel(app: App) {
    const p = { tenant: this.tenant, app };
    switch (this.tab) {
      case 'keys': return html`<wsl-app-keys .tenant=${p.tenant} .app=${app}></wsl-app-keys>`;
      case 'install': return html`<wsl-app-install .tenant=${p.tenant} .app=${app}></wsl-app-install>`;
      case 'users': return html`<wsl-app-users .tenant=${p.tenant} .app=${app}></wsl-app-users>`;
      case 'activity': return html`<wsl-app-activity .tenant=${p.tenant} .app=${app}></wsl-app-activity>`;
      case 'webhooks': return html`<wsl-app-webhooks .tenant=${p.tenant} .app=${app}></wsl-app-webhooks>`;
      case 'oidc': return html`<wsl-app-oidc .tenant=${p.tenant} .app=${app}></wsl-app-oidc>`;
      default: return html`<wsl-app-settings .tenant=${p.tenant} .app=${app}></wsl-app-settings>`;
    }
  }

  override render() {
    if (this.error) return failed(this.error, () => this.load());
    if (!this.app) return loading('Loading app…');
    const app = this.app;
    return html`
      <p class="small"><a href=${href('t', this.tenant.id, 'apps')}>← Apps</a></p>
      <h1>${app.name} <span class="small muted mono">${app.id}</span></h1>
      <nav class="tabs" aria-label="App sections">
        ${APP_TABS.map((t) => html`<a href=${href('t', this.tenant.id, 'apps', app.id, t)} aria-current=${t === this.tab ? 'page' : 'false'}>${TAB_LABEL[t]}</a>`)}
      </nav>
      ${this.panel(app)}`;
  }
}
customElements.get('wsl-app-page') ?? customElements.define('wsl-app-page', AppPage);
