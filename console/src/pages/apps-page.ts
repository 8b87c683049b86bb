import { LitElement, css, html } from 'lit';
import { api } from '../data/api';
import type { App, CreatedApp, TenantRef } from '../data/types';
import { href } from '../router';
import { shared } from '../styles';
import { empty, failed, loading, when } from '../components/states';
import { describedBy, fieldError, focusFirstInvalid, formError, invalid, noProblem, problemOf, type FormProblem } from '../components/form-errors';
import { titlePage } from '../page-title';
import { focusAfterRender } from '../components/focus';
import '../components/copy-button';

/** The organisation's apps, and creating one (its secret key is shown once, right here). */
export class AppsPage extends LitElement {
  static override styles = [shared, css`
    ul.apps { list-style: none; padding: 0; margin: 0; }
    ul.apps li { border-bottom: 1px solid var(--line); padding: .75rem 0; }
    ul.apps li:last-child { border-bottom: none; }
    .keybox { display: grid; grid-template-columns: 8rem 1fr auto; gap: .4rem .75rem; align-items: center; }
    @media (max-width: 640px) { .keybox { grid-template-columns: 1fr auto; } .keybox .k { grid-column: 1 / -1; } }
  `];
  static override properties = {
    tenant: { attribute: false }, apps: { state: true }, next: { state: true }, error: { state: true },
    creating: { state: true }, problem: { state: true }, created: { state: true }, busy: { state: true },
  };
  declare tenant: TenantRef | undefined;
  declare apps: App[] | null;
  declare next: string | null;
  declare error: unknown;
  declare creating: boolean;
  declare problem: FormProblem;
  declare created: CreatedApp | null;
  declare busy: boolean;

  constructor() {
    super();
    this.apps = null;
    this.next = null;
    this.error = null;
    this.creating = false;
    this.problem = noProblem;
    this.created = null;
    this.busy = false;
  }

  override updated(changed: Map<string, unknown>) {
    if (changed.has('tenant') && this.tenant) {
      titlePage('Apps', this.tenant.name);
      void this.load();
    }
  }

  private async load(more = false) {
    if (!this.tenant) return;
    this.error = null;
    try {
      const page = await api.apps(this.tenant.id, more ? this.next ?? undefined : undefined);
      this.apps = more ? [...(this.apps ?? []), ...page.data] : page.data;
      this.next = page.nextCursor;
    } catch (err) {
      this.error = err;
    }
  }

  private async create(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const origins = String(f.get('origins') ?? '').split(/[\s,]+/).filter(Boolean);
    this.busy = true;
    this.problem = noProblem;
    try {
      this.created = await api.createApp(this.tenant!.id, { name: String(f.get('name')), allowedOrigins: origins });
      this.creating = false;
      await focusAfterRender(this, '#created-title');
      await this.load();
    } catch (err) {
      this.problem = problemOf(err, { name: 'name', allowedOrigins: 'origins' });
      void focusFirstInvalid(this);
    } finally {
      this.busy = false;
    }
  }

  private startCreating() {
    this.creating = true;
    this.problem = noProblem;
    void focusAfterRender(this, '#name');
  }

  private stopCreating() {
    this.creating = false;
    void focusAfterRender(this, '#new-app');
  }

  private done() {
    this.created = null;
    void focusAfterRender(this, '#new-app');
  }

  private createdCard() {
    const c = this.created!;
    return html`
      <div class="card" role="region" aria-label="New app keys">
        <h2 style="margin-top:0" id="created-title" tabindex="-1">“${c.app.name}” is ready</h2>
        <div class="warn">Copy the secret key now: it is shown only this once. You can always make a new one under Keys.</div>
        <div class="keybox">
          <span>Publishable (test)</span><code class="k" data-key="pk">${c.keys.test.publishable}</code><wsl-copy .value=${c.keys.test.publishable}></wsl-copy>
          <span>Secret (test)</span><code class="k" data-key="sk">${c.keys.test.secret}</code><wsl-copy .value=${c.keys.test.secret}></wsl-copy>
          ${c.keys.live ? html`
            <span>Publishable (live)</span><code class="k">${c.keys.live.publishable}</code><wsl-copy .value=${c.keys.live.publishable}></wsl-copy>
            <span>Secret (live)</span><code class="k">${c.keys.live.secret}</code><wsl-copy .value=${c.keys.live.secret}></wsl-copy>` : ''}
        </div>
        <p class="row" style="margin-top:1rem">
          <a class="button" href=${href('t', this.tenant!.id, 'apps', c.app.id, 'install')}>Install it on your site</a>
          <button class="secondary" type="button" @click=${this.done}>Done</button>
        </p>
      </div>`;
  }

  override render() {
    if (!this.tenant) return loading();
    const canWrite = this.tenant.role !== 'viewer';
    return html`
      <div class="row spread"><h1>Apps</h1>
        ${canWrite && !this.creating ? html`<button type="button" id="new-app" @click=${this.startCreating}>New app</button>` : ''}</div>
      ${this.created ? this.createdCard() : ''}
      ${this.creating ? html`
        <form class="card" @submit=${this.create} aria-label="New app">
          <h2 style="margin-top:0">New app</h2>
          <label for="name">Name <span class="hint">(for you; the phone shows the display name, set later)</span></label>
          <input id="name" name="name" required maxlength="100" aria-invalid=${invalid(this.problem, 'name')} aria-describedby=${describedBy(this.problem, 'name')} />
          ${fieldError(this.problem, 'name')}
          <label for="origins">Allowed origins <span class="hint">(one per line, like https://shop.example.com or https://*.example.com; test mode always allows localhost)</span></label>
          <textarea id="origins" name="origins" placeholder="https://shop.example.com" aria-invalid=${invalid(this.problem, 'origins')} aria-describedby=${describedBy(this.problem, 'origins')}></textarea>
          ${fieldError(this.problem, 'origins')}
          ${formError(this.problem)}
          <p class="row"><button type="submit" ?disabled=${this.busy}>Create app</button>
          <button class="secondary" type="button" @click=${this.stopCreating}>Cancel</button></p>
        </form>` : ''}
      <div class="card">
        ${this.error ? failed(this.error, () => this.load())
          : this.apps === null ? loading('Loading apps…')
          : this.apps.length === 0 ? empty(canWrite ? 'No apps yet. Create one to get your keys and a test-mode login in a minute.' : 'No apps yet.')
          : html`<ul class="apps">${this.apps.map((a) => html`
              <li class="row spread">
                <div><a href=${href('t', this.tenant!.id, 'apps', a.id)}><strong>${a.name}</strong></a>
                  <div class="small muted mono">${a.id}</div></div>
                <div class="row small"><span class="badge test">test</span>${a.liveReady ? html`<span class="badge live">live</span>` : ''}
                  <span class="muted">created ${when(a.createdAt)}</span></div>
              </li>`)}</ul>
            ${this.next ? html`<p><button class="secondary" type="button" @click=${() => this.load(true)}>Load more</button></p>` : ''}`}
      </div>`;
  }
}
customElements.get('wsl-apps-page') ?? customElements.define('wsl-apps-page', AppsPage);
