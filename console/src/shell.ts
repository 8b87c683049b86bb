import { LitElement, css, html } from 'lit';
import { api, ApiFailure, call, sessionEvents } from './data/api';
import type { Me } from './data/types';
import { href, interceptLinks, navigate, parseRoute, type Route } from './router';
import { shared } from './styles';
import { failed, loading } from './components/states';
import './pages/auth-page';
import './pages/apps-page';
import './pages/app-page';
import './pages/team-page';
import './pages/billing-page';
import './pages/verify-page';
import './pages/reset-page';
import './pages/security-page';
import './pages/audit-page';
import './pages/invite-page';
import './pages/new-org-page';
import { titlePage } from './page-title';

/** The console's frame: who is signed in, which organisation, the navigation, and the page. */
export class ConsoleShell extends LitElement {
  static override styles = [shared, css`
    header { background: #fff; border-bottom: 1px solid var(--line); }
    .bar { max-width: 1100px; margin: 0 auto; padding: .6rem 1rem; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
    .brand { font-weight: 700; text-decoration: none; color: inherit; margin-right: auto; }
    .who { max-width: 16rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .flash { max-width: 1100px; margin: 1rem auto 0; padding: 0 1rem; }
    main:focus { outline: none; }
    .brand span { color: var(--accent-ink); }
    nav { display: flex; gap: 1rem; }
    nav a { text-decoration: none; font-weight: 600; color: var(--muted); }
    nav a[aria-current=page] { color: var(--accent-ink); }
    select { width: auto; max-width: 14rem; padding: .3rem .5rem; }
    main { max-width: 1100px; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
    /* Narrow: the brand keeps the first line, who you are and where you are share the second. */
    @media (max-width: 640px) { .brand { flex-basis: 100%; } .who { max-width: 11rem; } }
  `];
  static override properties = { me: { state: true }, route: { state: true }, error: { state: true }, ready: { state: true }, flash: { state: true }, billing: { state: true } };
  declare me: Me | null;
  /** A message that survives the one navigation it announces (e.g. "organisation created"). */
  declare flash: { text: string; path: string | null } | null;
  declare route: Route;
  declare error: unknown;
  declare ready: boolean;
  /** Whether this server bills (STRIPE_SECRET_KEY set); off, there is no Billing page. */
  declare billing: boolean;

  constructor() {
    super();
    this.me = null;
    this.ready = false;
    this.billing = false;
    this.error = null;
    this.flash = null;
    this.route = parseRoute(location.pathname);
    window.addEventListener('popstate', () => {
      this.route = parseRoute(location.pathname);
      if (this.flash) {
        if (this.flash.path === null) this.flash = { ...this.flash, path: location.pathname };
        else if (this.flash.path !== location.pathname) this.flash = null;
      }
      this.guard();
      void this.arrived();
    });
    this.addEventListener('flash', (e) => (this.flash = { text: (e as CustomEvent<string>).detail, path: null }));
    sessionEvents.addEventListener('signedout', () => {
      this.me = null;
      this.guard();
    });
    // Clicks inside every page's shadow root reach the host; composedPath still names the anchor.
    interceptLinks(this);
    this.addEventListener('me-changed', (e) => {
      this.me = (e as CustomEvent<Me>).detail;
      void this.loadBillingFlag();
      this.guard();
    });
  }

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    try {
      this.me = await api.me();
    } catch (err) {
      if (!(err instanceof ApiFailure && err.status === 401)) this.error = err;
      this.me = null;
    }
    this.ready = true;
    void this.loadBillingFlag();
    this.guard();
    this.nameRoute();
  }

  private async loadBillingFlag() {
    if (!this.me || this.billing) return;
    this.billing = await call<{ enabled: boolean }>('GET', '/billing').then((r) => r.enabled, () => false);
  }

  /** Where a person may be: signed out → sign-in (keeping invite links), signed in → not on the auth pages. */
  private guard() {
    const r = this.route;
    if (!this.ready || this.error) return;
    const open = r.name === 'signin' || r.name === 'signup';
    // Mailed links open these whether or not anyone is signed in.
    const anyone = r.name === 'invite' || r.name === 'verify' || r.name === 'forgot' || r.name === 'reset';
    if (!this.me) {
      if (!open && !anyone) navigate(href('signin'), true);
      return;
    }
    if (open || r.name === 'home') {
      const back = sessionStorage.getItem('wsl-after-signin');
      sessionStorage.removeItem('wsl-after-signin');
      const first = this.me.tenants[0];
      // Removed from every organisation: stay and offer to create one.
      if (back || first) navigate(back ?? href('t', first!.id, 'apps'), true);
    }
  }

  /**
   * After a route change: name the page (title and a polite announcement) and move the
   * keyboard to the new content, as a full page load would.
   */
  private async arrived() {
    this.nameRoute();
    await this.updateComplete;
    const main = this.renderRoot.querySelector<HTMLElement>('main');
    // A page that already put the keyboard somewhere useful (its first field) keeps it there.
    const active = (this.renderRoot as ShadowRoot).activeElement;
    if (main && !(active && main.contains(active))) main.focus({ preventScroll: true });
  }

  private nameRoute() {
    const r = this.route;
    const tenant = this.me?.tenants.find((t) => 'tenantId' in r && t.id === r.tenantId);
    switch (r.name) {
      case 'signin': return titlePage('Sign in');
      case 'signup': return titlePage('Create your account');
      case 'invite': return titlePage('Invitation');
      case 'verify': return titlePage('Confirm your email');
      case 'forgot': return titlePage('Forgot password');
      case 'reset': return titlePage('Choose a new password');
      case 'security': return titlePage('Security');
      case 'audit': return titlePage('Audit log', tenant?.name);
      case 'neworg': return titlePage('New organisation');
      case 'apps': return titlePage('Apps', tenant?.name);
      case 'team': return titlePage('Team', tenant?.name);
      // The app page names itself once it knows the app's name.
      case 'app': return undefined;
      case 'notfound': return titlePage('Page not found');
      default: return titlePage();
    }
  }

  private get tenantId(): string | undefined {
    const r = this.route;
    return 'tenantId' in r ? r.tenantId : this.me?.tenants[0]?.id;
  }

  private async signOut() {
    await api.signOut().catch(() => {});
    this.me = null;
    navigate(href('signin'));
  }

  private switchTenant(e: Event) {
    navigate(href('t', (e.target as HTMLSelectElement).value, 'apps'));
  }

  private page() {
    const r = this.route;
    if (!this.ready) return loading();
    if (this.error) return failed(this.error, () => { this.error = null; void this.load(); });
    if (r.name === 'invite') return html`<wsl-invite-page .me=${this.me}></wsl-invite-page>`;
    if (r.name === 'verify') return html`<wsl-verify-page .me=${this.me}></wsl-verify-page>`;
    if (r.name === 'forgot' || r.name === 'reset') return html`<wsl-reset-page .mode=${r.name}></wsl-reset-page>`;
    if (!this.me) return html`<wsl-auth-page .mode=${r.name === 'signup' ? 'signup' : 'signin'}></wsl-auth-page>`;
    if (r.name === 'neworg' || !this.me.tenants.length) return html`<wsl-new-org-page ?first=${!this.me.tenants.length}></wsl-new-org-page>`;
    const tenant = this.me.tenants.find((t) => 'tenantId' in r && t.id === r.tenantId);
    if ('tenantId' in r && !tenant) return html`<div class="card empty"><p>This organisation doesn't exist or you're not a member of it.</p><a href=${href('')}>Go to your apps</a></div>`;
    switch (r.name) {
      case 'apps': return html`<wsl-apps-page .tenant=${tenant}></wsl-apps-page>`;
      case 'app': return html`<wsl-app-page .tenant=${tenant} .appId=${r.appId} .tab=${r.tab}></wsl-app-page>`;
      case 'team': return html`<wsl-team-page .tenant=${tenant} .me=${this.me}></wsl-team-page>`;
      case 'audit': return tenant && tenant.role !== 'viewer'
        ? html`<wsl-audit-page .tenant=${tenant}></wsl-audit-page>`
        : html`<div class="card empty"><p>Only admins and owners can read the audit log.</p></div>`;
      case 'security': return html`<wsl-security-page .me=${this.me} .tenant=${this.me.tenants.find((t) => t.id === this.tenantId)}></wsl-security-page>`;
      case 'billing': return this.billing && tenant?.role === 'owner'
        ? html`<wsl-billing-page .tenant=${tenant}></wsl-billing-page>`
        : html`<div class="card empty"><p>There is no page here.</p><a href=${href('')}>Go to your apps</a></div>`;
      case 'notfound': return html`<div class="card empty"><p>There is no page here.</p><a href=${href('')}>Go to your apps</a></div>`;
      default: return loading();
    }
  }

  override render() {
    const me = this.me;
    const tid = this.tenantId;
    const r = this.route;
    return html`
      <header>
        <div class="bar">
          <a class="brand" href=${href('')}>wechat-scan-login <span>console</span></a>
          ${me && tid ? html`
            <nav aria-label="Main">
              <a href=${href('t', tid, 'apps')} aria-current=${r.name === 'apps' || r.name === 'app' ? 'page' : 'false'}>Apps</a>
              <a href=${href('t', tid, 'team')} aria-current=${r.name === 'team' ? 'page' : 'false'}>Team</a>
              ${me.tenants.find((t) => t.id === tid)?.role !== 'viewer'
                ? html`<a href=${href('t', tid, 'audit')} aria-current=${r.name === 'audit' ? 'page' : 'false'}>Audit log</a>` : ''}
              <a href=${href('security')} aria-current=${r.name === 'security' ? 'page' : 'false'}>Security</a>
              ${this.billing && me.tenants.find((t) => t.id === tid)?.role === 'owner'
                ? html`<a href=${href('t', tid, 'billing')} aria-current=${r.name === 'billing' ? 'page' : 'false'}>Billing</a>` : ''}
            </nav>
            ${me.tenants.length > 1 ? html`
              <select aria-label="Organisation" @change=${this.switchTenant}>
                ${me.tenants.map((t) => html`<option value=${t.id} ?selected=${t.id === tid}>${t.name}</option>`)}
              </select>` : html`<span class="muted small">${me.tenants[0]?.name}</span>`}
            <a class="small" href=${href('organisations', 'new')}>New organisation</a>
            <span class="who muted small" title=${me.account.email}>${me.account.email}</span>
            <button class="secondary" type="button" @click=${this.signOut}>Sign out</button>` : ''}
        </div>
      </header>
      ${this.flash ? html`<div class="flash"><div class="success" role="status">${this.flash.text}
        <button class="link" type="button" @click=${() => (this.flash = null)}>Dismiss</button></div></div>` : ''}
      <main tabindex="-1">${this.page()}</main>`;
  }
}
customElements.get('wsl-console') ?? customElements.define('wsl-console', ConsoleShell);
