import { LitElement, css, html } from 'lit';
import { call } from '../data/api';
import type { App, Attempt, DeliveryEvent, DeliveryState, Endpoint, Message, Mode, TenantRef } from '../data/types';
import { EVENT_TYPES, TEST_EVENT_TYPE } from '../data/types';
import { shared } from '../styles';
import { empty, failed, loading, when } from '../components/states';
import { describedBy, fieldError, focusFirstInvalid, formError, invalid, noProblem, problemOf, type FormProblem } from '../components/form-errors';
import '../components/copy-button';

/** The server's delivery state in the log's words and colours. */
const DELIVERY_LOOK: Record<DeliveryState, { label: string; badge: string }> = {
  pending: { label: 'sending', badge: 'pending' },
  delivered: { label: 'delivered', badge: 'ok' },
  retrying: { label: 'retrying', badge: 'expired' },
  paused: { label: 'paused', badge: 'expired' },
  failed: { label: 'failed', badge: 'failed' },
};

const qs = (p: Record<string, string | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v) s.set(k, v);
  return s.toString();
};

/**
 * Webhooks of one app and mode: endpoints (add, test event, secret shown on demand, rotate,
 * enable/disable, replay failed since a time) and the delivery log with each message's
 * attempts and a replay button.
 */
export class AppWebhooks extends LitElement {
  static override styles = [shared, css`
    .ep { border-bottom: 1px solid var(--line); padding: .75rem 0; }
    .ep:last-child { border-bottom: none; }
    .events label { display: inline-flex; gap: .35rem; align-items: center; font-weight: 400; margin: .25rem 1rem .25rem 0; }
    .filters { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: .5rem; align-items: end; }
    .filters label { margin: 0 0 .2rem; }
    td pre { max-width: 28rem; white-space: pre-wrap; margin: 0; }
    .attempts td { background: #fafbfc; }
  `];
  static override properties = {
    tenant: { attribute: false }, app: { attribute: false }, mode: { state: true }, endpoints: { state: true }, messages: { state: true },
    next: { state: true }, error: { state: true }, notice: { state: true }, problem: { state: true }, secret: { state: true },
    filters: { state: true }, open: { state: true }, attempts: { state: true }, createProblem: { state: true },
  };
  declare tenant: TenantRef;
  declare app: App;
  declare mode: Mode;
  declare endpoints: Endpoint[] | null;
  declare messages: Message[] | null;
  declare next: string | null;
  declare error: unknown;
  declare notice: string;
  declare problem: string;
  /** A secret on screen: just created, revealed, or rotated. */
  declare secret: { endpointId: string; value: string; why: string } | null;
  declare filters: { status: string; type: string; endpoint_id: string; since: string };
  declare open: string | null;
  declare attempts: Attempt[] | null;
  declare createProblem: FormProblem;

  constructor() {
    super();
    this.mode = 'test';
    this.endpoints = null;
    this.messages = null;
    this.next = null;
    this.error = null;
    this.notice = '';
    this.problem = '';
    this.secret = null;
    this.filters = { status: '', type: '', endpoint_id: '', since: '' };
    this.open = null;
    this.attempts = null;
    this.createProblem = noProblem;
  }

  private get base() {
    return `/tenants/${encodeURIComponent(this.tenant.id)}/apps/${encodeURIComponent(this.app.id)}/webhooks`;
  }

  private source: EventSource | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
    this.follow();
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.source?.close();
    clearTimeout(this.refreshTimer);
  }

  /**
   * The log follows deliveries live over the server's event stream (EventSource reconnects by
   * itself): a delivery on screen changes in place; one that isn't (a new message) refreshes
   * the first page once per burst. Endpoint events carry the breaker's state.
   */
  private follow() {
    this.source?.close();
    this.source = new EventSource(`/console/api${this.base}/stream?mode=${this.mode}`);
    this.source.addEventListener('delivery', (e) => this.applyDelivery(JSON.parse((e as MessageEvent<string>).data) as DeliveryEvent));
    this.source.addEventListener('endpoint', (e) => {
      const ep = JSON.parse((e as MessageEvent<string>).data) as Endpoint;
      if (this.endpoints?.some((x) => x.id === ep.id)) this.endpoints = this.endpoints.map((x) => (x.id === ep.id ? ep : x));
    });
  }

  private applyDelivery(ev: DeliveryEvent) {
    const shown = this.messages?.find((m) => m.id === ev.messageId);
    if (!shown || !shown.deliveries.some((d) => d.id === ev.id)) {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = setTimeout(() => void this.refreshFirstPage(), 300);
      return;
    }
    const { messageId: _m, type: _t, ...delivery } = ev;
    this.messages = this.messages!.map((m) => (m.id !== ev.messageId ? m : {
      ...m,
      // Events can overtake each other on the wire; keep the newest state of each delivery.
      deliveries: m.deliveries.map((d) => (d.id === ev.id && d.updatedAt <= delivery.updatedAt ? delivery : d)),
    }));
  }

  /** New messages appear at the top; the pages loaded with "Load more" stay below them. */
  private async refreshFirstPage() {
    if (this.filters.status || this.filters.since) return;
    const page = await call<{ data: Message[]; nextCursor: string | null }>('GET', `${this.base}/messages?${this.messageQuery(undefined)}`).catch(() => null);
    if (!page || !this.messages) return;
    const fresh = new Set(page.data.map((m) => m.id));
    this.messages = [...page.data, ...this.messages.filter((m) => !fresh.has(m.id))];
  }

  private async load() {
    this.error = null;
    try {
      const [eps] = await Promise.all([call<{ data: Endpoint[] }>('GET', `${this.base}/endpoints?mode=${this.mode}`), this.loadMessages()]);
      this.endpoints = eps.data;
    } catch (err) {
      this.error = err;
    }
  }

  private messageQuery(cursor: string | undefined, limit = 25) {
    const f = this.filters;
    return qs({
      mode: this.mode, status: f.status, type: f.type, endpoint_id: f.endpoint_id,
      since: f.since ? new Date(f.since).toISOString() : undefined, cursor, limit: String(limit),
    });
  }

  private async loadMessages(more = false) {
    const page = await call<{ data: Message[]; nextCursor: string | null }>('GET', `${this.base}/messages?${this.messageQuery(more ? this.next ?? undefined : undefined)}`);
    this.messages = more ? [...(this.messages ?? []), ...page.data] : page.data;
    this.next = page.nextCursor;
  }

  /** Runs an action, then shows what happened in plain words (or why it didn't). */
  private async act(fn: () => Promise<string | void>) {
    this.notice = '';
    this.problem = '';
    try {
      const said = await fn();
      if (said) this.notice = said;
      await this.load();
    } catch (err) {
      this.problem = (err as Error).message;
    }
  }

  private switchMode(e: Event) {
    this.mode = (e.target as HTMLSelectElement).value as Mode;
    this.secret = null;
    this.open = null;
    this.filters = { ...this.filters, endpoint_id: '' };
    this.endpoints = null;
    void this.load();
    this.follow();
  }

  private async create(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    const events = f.getAll('events').map(String);
    this.notice = '';
    this.problem = '';
    this.createProblem = noProblem;
    try {
      const ep = await call<Endpoint & { secret: string }>('POST', `${this.base}/endpoints?mode=${this.mode}`, {
        url: String(f.get('url')), events, description: String(f.get('description') ?? '') || null,
      });
      this.secret = { endpointId: ep.id, value: ep.secret, why: 'Signing secret of the new endpoint' };
      form.reset();
      await this.load();
    } catch (err) {
      this.createProblem = problemOf(err, { url: 'url', description: 'description', events: 'events' });
      void focusFirstInvalid(this);
    }
  }

  private reveal(ep: Endpoint) {
    void this.act(async () => {
      const r = await call<{ secret: string }>('POST', `${this.base}/endpoints/${ep.id}/secret?mode=${this.mode}`);
      this.secret = { endpointId: ep.id, value: r.secret, why: 'Signing secret' };
    });
  }

  private rotate(ep: Endpoint) {
    if (!confirm('Rotate this signing secret? The old one keeps signing beside the new one for 24 hours, so you can update your server in that time.')) return;
    void this.act(async () => {
      const r = await call<{ secret: string; previousSecretExpiresAt: string }>('POST', `${this.base}/endpoints/${ep.id}/rotate?mode=${this.mode}`);
      this.secret = { endpointId: ep.id, value: r.secret, why: `New signing secret (the old one also signs until ${when(r.previousSecretExpiresAt)})` };
    });
  }

  private toggle(ep: Endpoint) {
    void this.act(async () => {
      await call('PATCH', `${this.base}/endpoints/${ep.id}?mode=${this.mode}`, { enabled: !ep.enabled });
      return ep.enabled ? 'Endpoint disabled: nothing is sent to it until you enable it.' : 'Endpoint enabled.';
    });
  }

  private deleteEndpoint(ep: Endpoint) {
    if (!confirm(`Delete the endpoint ${ep.url}? Its delivery log goes with it.`)) return;
    void this.act(async () => {
      await call('DELETE', `${this.base}/endpoints/${ep.id}?mode=${this.mode}`);
      if (this.secret?.endpointId === ep.id) this.secret = null;
      return 'Endpoint deleted.';
    });
  }

  private sendTest(ep: Endpoint) {
    void this.act(async () => {
      const r = await call<{ messageId: string }>('POST', `${this.base}/endpoints/${ep.id}/test?mode=${this.mode}`);
      return `Test event ${r.messageId} sent. It appears in the delivery log below.`;
    });
  }

  private replayFailed(e: SubmitEvent, ep: Endpoint) {
    e.preventDefault();
    const since = String(new FormData(e.target as HTMLFormElement).get('since') ?? '');
    if (!since) return;
    void this.act(async () => {
      const r = await call<{ deliveries: number }>('POST', `${this.base}/endpoints/${ep.id}/replay-failed?mode=${this.mode}`, { since: new Date(since).toISOString() });
      return r.deliveries ? `${r.deliveries} failed deliveries are being sent again.` : 'No failed deliveries since then.';
    });
  }

  private replay(m: Message) {
    void this.act(async () => {
      const r = await call<{ deliveries: number }>('POST', `${this.base}/messages/${m.id}/replay?mode=${this.mode}`, {});
      return r.deliveries ? `Message ${m.id} is being sent again.` : 'No enabled endpoint to send it to.';
    });
  }

  private async showAttempts(m: Message) {
    if (this.open === m.id) {
      this.open = null;
      return;
    }
    this.open = m.id;
    this.attempts = null;
    try {
      this.attempts = (await call<{ data: Attempt[] }>('GET', `${this.base}/messages/${m.id}/attempts?mode=${this.mode}`)).data;
    } catch (err) {
      this.problem = (err as Error).message;
    }
  }

  private filter(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    this.filters = { status: String(f.get('status') ?? ''), type: String(f.get('type') ?? ''), endpoint_id: String(f.get('endpoint_id') ?? ''), since: String(f.get('since') ?? '') };
    this.open = null;
    this.loadMessages().catch((err: unknown) => (this.error = err));
  }

  /** The breaker in words: why nothing is being sent right now, and until when. */
  private circuitNote(ep: Endpoint) {
    const c = ep.circuit;
    if (c.state === 'open') {
      return html`<div class="warn" role="status" data-circuit="open"><strong>Paused</strong> after ${c.consecutiveFailures} failed deliveries in a row:
        nothing is sent until ${when(c.pausedUntil)}, then one delivery tests the endpoint. Waiting messages keep their place in the retry schedule.</div>`;
    }
    if (c.state === 'half_open') return html`<div class="warn" role="status" data-circuit="half_open">Testing the endpoint with one delivery before sending the rest.</div>`;
    return '';
  }

  private endpointCard(ep: Endpoint, ro: boolean) {
    return html`<div class="ep" data-endpoint=${ep.id}>
      <p class="row spread"><code>${ep.url}</code>
        ${ep.enabled ? html`<span class="badge ok">enabled</span>` : html`<span class="badge failed">disabled</span>`}</p>
      <p class="small muted">${ep.description ?? ''} ${ep.events.length ? ep.events.join(', ') : 'all events'} · <span class="mono">${ep.id}</span></p>
      ${!ep.enabled && ep.disabledReason ? html`<div class="warn" role="status">${ep.disabledReason}</div>` : ''}
      ${ep.enabled ? this.circuitNote(ep) : ''}
      ${ep.enabled && ep.failingSince ? html`<div class="warn" role="status">Deliveries have been failing since ${when(ep.failingSince)}. After 5 days of failures the endpoint is disabled.</div>` : ''}
      ${ro ? '' : html`<div class="row">
        <button class="secondary" type="button" ?disabled=${!ep.enabled} @click=${() => this.sendTest(ep)}>Send test event</button>
        <button class="secondary" type="button" @click=${() => this.reveal(ep)}>Show secret</button>
        <button class="secondary" type="button" @click=${() => this.rotate(ep)}>Rotate secret</button>
        <button class="secondary" type="button" @click=${() => this.toggle(ep)}>${ep.enabled ? 'Disable' : 'Enable'}</button>
        <button class="link" type="button" @click=${() => this.deleteEndpoint(ep)}>Delete</button>
      </div>
      <form class="row" style="margin-top:.5rem" @submit=${(e: SubmitEvent) => this.replayFailed(e, ep)} aria-label="Replay failed deliveries of ${ep.url}">
        <label class="small" for="since-${ep.id}" style="margin:0">Resend failed deliveries since</label>
        <input id="since-${ep.id}" name="since" type="datetime-local" required style="width:auto" />
        <button class="secondary" type="submit" ?disabled=${!ep.enabled}>Resend</button>
      </form>`}
      ${this.secret?.endpointId === ep.id ? html`<div class="warn" role="status"><strong>${this.secret.why}.</strong> Use it to verify signatures (Standard Webhooks).
        <p class="row"><code data-secret>${this.secret.value}</code><wsl-copy .value=${this.secret.value}></wsl-copy>
        <button class="link" type="button" @click=${() => (this.secret = null)}>Hide</button></p></div>` : ''}
    </div>`;
  }

  private messageRows(m: Message, ro: boolean) {
    const eps = new Map((this.endpoints ?? []).map((e) => [e.id, e.url]));
    return html`<tr data-message=${m.id}>
        <td>${when(m.createdAt)}</td>
        <td><code>${m.type}</code><div class="small muted mono">${m.id}</div></td>
        <td>${m.deliveries.length === 0 ? html`<span class="muted small">no endpoint</span>` : m.deliveries.map((d) => {
          const st = DELIVERY_LOOK[d.state];
          return html`<div data-delivery-state=${st.label}>
          <span class="badge ${st.badge}">${st.label}</span> <span class="small">${d.attempts} attempt${d.attempts === 1 ? '' : 's'}</span>
          <span class="small muted opt">${eps.get(d.endpointId) ?? d.endpointId}</span>
          ${(d.state === 'retrying' || d.state === 'paused') && d.nextAttemptAt ? html`<span class="small muted">· next try ${when(d.nextAttemptAt)}</span>` : ''}</div>`;
        })}</td>
        <td><button class="link" type="button" aria-expanded=${this.open === m.id ? 'true' : 'false'} @click=${() => this.showAttempts(m)}>Attempts</button>
          ${ro ? '' : html` · <button class="link" type="button" @click=${() => this.replay(m)}>Replay</button>`}</td>
      </tr>
      ${this.open === m.id ? html`<tr class="attempts"><td colspan="4">
        <pre>${JSON.stringify(m.payload, null, 2)}</pre>
        ${this.attempts === null ? loading('Loading attempts…') : this.attempts.length === 0 ? html`<p class="muted small">No attempts yet.</p>` : html`<table>
          <thead><tr><th>#</th><th>When</th><th>Result</th><th class="opt">Time</th><th>Response</th></tr></thead>
          <tbody>${this.attempts.map((a) => html`<tr>
            <td>${a.attempt}</td><td>${when(a.createdAt)}</td>
            <td>${a.statusCode !== null && a.statusCode < 300 ? html`<span class="badge ok">${a.statusCode}</span>` : html`<span class="badge failed">${a.statusCode ?? 'no answer'}</span>`}
              ${a.error ? html`<div class="small">${a.error}</div>` : ''}</td>
            <td class="opt">${a.durationMs} ms</td>
            <td>${a.responseBody ? html`<pre>${a.responseBody}</pre>` : html`<span class="muted">—</span>`}</td></tr>`)}</tbody></table>`}
      </td></tr>` : ''}`;
  }

  override render() {
    if (this.error) return failed(this.error, () => this.load());
    if (!this.endpoints || !this.messages) return loading('Loading webhooks…');
    const ro = this.tenant.role === 'viewer';
    return html`
      <div class="row spread">
        <p class="small muted" style="max-width:46rem">Your backend hears about logins here: signed
          <a href="https://www.standardwebhooks.com/" rel="noopener">Standard Webhooks</a>, retried for about a day and a half until it answers 2xx.</p>
        <label class="row" style="margin:0">Mode <select aria-label="Mode" style="width:auto" @change=${this.switchMode}>
          <option value="test" ?selected=${this.mode === 'test'}>test</option><option value="live" ?selected=${this.mode === 'live'}>live</option></select></label>
      </div>
      ${this.notice ? html`<div class="success" role="status">${this.notice}</div>` : ''}
      ${this.problem ? html`<div class="error" role="alert">${this.problem}</div>` : ''}
      <div class="card">
        <h2 style="margin-top:0">Endpoints <span class="badge ${this.mode}">${this.mode}</span></h2>
        ${this.endpoints.length === 0 ? empty(`No ${this.mode}-mode endpoints yet.`) : this.endpoints.map((ep) => this.endpointCard(ep, ro))}
        ${ro ? '' : html`<form @submit=${this.create} aria-label="New endpoint">
          <h3>Add an endpoint</h3>
          <label for="wh-url">URL <span class="hint">${this.mode === 'live' ? 'https, on a public address' : 'http://localhost works in test mode'}</span></label>
          <input id="wh-url" name="url" type="url" required maxlength="2048" placeholder="https://api.example.com/webhooks/wechat-login"
            aria-invalid=${invalid(this.createProblem, 'url')} aria-describedby=${describedBy(this.createProblem, 'url')} />
          ${fieldError(this.createProblem, 'url')}
          <fieldset class="events" style="border:none;padding:0;margin:.5rem 0"><legend class="small muted">Events (none ticked = all)</legend>
            ${EVENT_TYPES.map((t) => html`<label><input type="checkbox" name="events" value=${t} /> <code>${t}</code></label>`)}</fieldset>
          <label for="wh-desc">Description <span class="hint">optional</span></label>
          <input id="wh-desc" name="description" maxlength="500" aria-invalid=${invalid(this.createProblem, 'description')} aria-describedby=${describedBy(this.createProblem, 'description')} />
          ${fieldError(this.createProblem, 'description')}
          ${fieldError(this.createProblem, 'events')}
          ${formError(this.createProblem)}
          <p><button type="submit">Add endpoint</button></p>
        </form>`}
      </div>
      <div class="card">
        <h2 style="margin-top:0">Delivery log</h2>
        <form class="filters" @submit=${this.filter} aria-label="Filter the delivery log">
          <div><label for="f-status">Status</label><select id="f-status" name="status">
            ${([['', 'any'], ['pending', 'sending or retrying'], ['succeeded', 'delivered'], ['failed', 'failed']] as const).map(([v, label]) => html`<option value=${v} ?selected=${this.filters.status === v}>${label}</option>`)}</select></div>
          <div><label for="f-type">Event</label><select id="f-type" name="type">
            ${['', ...EVENT_TYPES, TEST_EVENT_TYPE].map((s) => html`<option value=${s} ?selected=${this.filters.type === s}>${s || 'any'}</option>`)}</select></div>
          <div><label for="f-ep">Endpoint</label><select id="f-ep" name="endpoint_id"><option value="">any</option>
            ${this.endpoints.map((e) => html`<option value=${e.id} ?selected=${this.filters.endpoint_id === e.id}>${e.url}</option>`)}</select></div>
          <div><label for="f-since">Since</label><input id="f-since" name="since" type="datetime-local" .value=${this.filters.since} /></div>
          <div><button class="secondary" type="submit">Filter</button></div>
        </form>
        ${this.messages.length === 0 ? empty('No messages match.') : html`<div class="table-wrap"><table>
          <thead><tr><th>When</th><th>Event</th><th>Deliveries</th><th><span class="sr">Actions</span></th></tr></thead>
          <tbody>${this.messages.map((m) => this.messageRows(m, ro))}</tbody></table></div>`}
        ${this.next ? html`<p><button class="secondary" type="button" @click=${() => this.loadMessages(true).catch((err: unknown) => (this.error = err))}>Load more</button></p>` : ''}
      </div>`;
  }
}
customElements.get('wsl-app-webhooks') ?? customElements.define('wsl-app-webhooks', AppWebhooks);
