import { html, LitElement } from 'lit';
import { chooseLang, stringsFor, type Strings } from './i18n';
import { initial, isFinal, overdue, reduce, secondsLeft, type Input, type Model } from './machine';
import { isTerminal, type State } from './protocol';
import { styles } from './styles';
import { backoff } from './backoff';
import { connect, type Transport } from './transport';

/**
 * The service this script was loaded from (`<script src="https://login.example.com/widget.js">`).
 * Bundled into an app (npm), the script's URL is the app's own, so there is no default.
 */
const SCRIPT = new URL(import.meta.url);
const SCRIPT_ORIGIN = SCRIPT.pathname.endsWith('/widget.js') ? SCRIPT.origin : '';
const PHONE = /Android|iPhone|iPad|iPod|Mobile|HarmonyOS/i;

/** The WeChat mark, drawn for this element: two speech bubbles on the brand green. */
const MARK = html`<svg viewBox="0 0 48 48" width="20" height="20" aria-hidden="true"><rect width="48" height="48" rx="12" fill="#07c160"/><path fill="#fff" d="M19 10C12 10 7 14 7 20c0 3 2 6 5 8l-1 4 4-2c1 0 3 1 4 1h1v-3c0-6 5-10 12-10h1c-1-5-7-8-14-8zm22 17c0-5-5-9-10-9s-10 4-10 9 5 8 10 8l4-1 3 2-1-3c2-2 4-4 4-6z"/><g fill="#07c160"><circle cx="15" cy="17" r="2"/><circle cx="23" cy="17" r="2"/><circle cx="28" cy="25" r="1.5"/><circle cx="34" cy="25" r="1.5"/></g></svg>`;

/** What went wrong and what a developer must do about each final error, for its one console.error. */
const FIX: Record<string, (key: string, why: string) => string> = {
  invalid_key: (k) => `site-key="${k}" is unknown or revoked. Fix: copy the app's publishable key from the console`,
  origin_not_allowed: (k) => `${location.origin} is not an allowed origin of the app with site-key="${k}". Fix: add it to the app's allowed origins in the console`,
  no_server: (_, why) => `${why}. Fix: set server="https://…" to your wechat-scan-login service's URL`,
};

/**
 * Log in with WeChat by scanning a mini-program code.
 *
 * @event login - `detail: {token, user}`; the token is a JWT for the site's backend to verify.
 * @event scanned - the code was scanned; the phone now asks for confirmation.
 * @event cancelled - the visitor tapped Cancel on the phone.
 * @event expired - the code expired before it was confirmed.
 * @event failed - `detail: {code, message}`: invalid_key, origin_not_allowed, quota_exceeded,
 *   rate_limited, wechat_error, offline, session_not_found, …
 * @event statechange - `detail: {state}` on every change of `state`.
 *
 * @csspart base - the card.
 * @csspart code - the code image.
 * @csspart status - the status line (a `role="status"` live region).
 * @csspart button - the refresh / retry / "Open in WeChat" controls.
 * @csspart match - the 2-digit number to compare with the phone.
 * @csspart header - the WeChat mark and the "Log in with WeChat" heading.
 * @csspart sandbox - test mode only: the "Open sandbox phone" link under the code.
 *
 * @cssproperty --wsl-color-bg
 * @cssproperty --wsl-color-fg
 * @cssproperty --wsl-color-muted
 * @cssproperty --wsl-color-accent - buttons and the success mark (white text on it).
 * @cssproperty --wsl-radius
 * @cssproperty --wsl-font
 * @cssproperty --wsl-size - the code's edge length (default 180px).
 *
 * Custom states for styling: `:state(loading|ready|scanned|success|cancelled|expired|error)`,
 * plus `:state(reconnecting)` while the connection is being restored.
 */
export class WechatScanLogin extends LitElement {
  static override styles = styles;
  static override properties = {
    siteKey: { attribute: 'site-key' },
    server: {},
    lang: {},
    theme: { reflect: true },
    autoRefresh: { type: Boolean, attribute: 'auto-refresh' },
    strings: { type: Object },
    __m: { state: true },
    __left: { state: true },
  };

  declare siteKey: string | undefined;
  /** Base URL of the service; defaults to the origin this script was loaded from. */
  declare server: string | undefined;
  declare lang: string;
  declare theme: 'light' | 'dark' | 'auto' | undefined;
  declare autoRefresh: boolean;
  /** Overrides for any built-in string. */
  declare strings: Partial<Strings> | undefined;
  declare __m: Model;
  declare __left: number;
  private __t?: Transport;
  private __run = '';
  private __tick?: ReturnType<typeof setInterval>;
  private __i?: ElementInternals;
  private __drawn?: Model;
  /** WeChat's code quota was reached (DESIGN §11): ask again on our own, backing off. */
  private __busy?: ReturnType<typeof setTimeout>;
  private __busyTries = 0;

  constructor() {
    super();
    this.__m = initial;
    this.__left = 0;
    this.autoRefresh = false;
    this.__i = this.attachInternals?.();
  }

  /** `loading`, `ready`, `scanned`, `success`, `cancelled`, `expired` or `error`. */
  get state(): State {
    return this.__m.state;
  }

  /**
   * The current session's id (the public `scene` in the code), for a site's own end-to-end
   * tests that play the phone with `POST /v1/test_helpers/sessions/:id/scan`.
   */
  get sessionId(): string | undefined {
    return this.__m.session?.session;
  }

  /** Drops the current code and asks for a new one (also the way out of `error`). */
  refresh(): void {
    clearTimeout(this.__busy);
    this.__t?.stop();
    this.__t = undefined;
    this.__run = '';
    this.requestUpdate();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.__t?.stop();
    this.__t = undefined;
    this.__run = '';
    clearInterval(this.__tick);
    clearTimeout(this.__busy);
  }

  private get __base(): string {
    return (this.server || SCRIPT_ORIGIN).replace(/\/+$/, '');
  }

  private get __s(): Strings {
    const lang = chooseLang([this.closest('[lang]')?.getAttribute('lang'), document.documentElement.lang, ...navigator.languages]);
    return stringsFor(lang, this.strings);
  }

  protected override willUpdate(): void {
    const run = `${this.siteKey}\n${this.__base}`;
    if (!this.isConnected || !this.siteKey || run == this.__run) return;
    this.__t?.stop();
    const prev = this.__m.state;
    this.__m = initial;
    this.__run = run;
    if (prev != 'loading') this.__emit('statechange', { state: 'loading' });
    if (!this.__base) return this.__frame({ type: 'error', code: 'no_server', message: 'The element was bundled into the page, so it cannot take its server from its script URL' });
    this.__t = connect({ server: this.__base, siteKey: this.siteKey, onFrame: (f) => this.__frame(f) });
  }

  protected override updated(): void {
    const m = this.__m;
    if (m == this.__drawn) return;
    this.__drawn = m;
    try {
      this.__i?.states.clear();
      this.__i?.states.add(m.state);
      if (m.reconnecting) this.__i?.states.add('reconnecting');
    } catch {
      // Browsers without CustomStateSet: the state is still readable as the `state` property.
    }
    clearInterval(this.__tick);
    if (m.state == 'ready' || m.state == 'scanned') {
      // The element's own deadline: a code ends even if the server (or the link to it) never says so.
      const tick = () => (overdue(m, Date.now()) ? this.__frame({ type: 'deadline' }) : (this.__left = secondsLeft(m.endsAt!, Date.now())));
      tick();
      this.__tick = setInterval(tick, 1000);
    }
  }

  private __frame(f: Input): void {
    const before = this.__m.state;
    const [m, out] = reduce(this.__m, f, f.type == 'error' ? this.__plain(f.code) : '');
    this.__m = m;
    if (isTerminal(m.state)) this.__t?.stop();
    if (m.state == 'error' && before != 'error' && isFinal(m.error!.code)) {
      // Only the developer can fix these: say what and how, once, where they look.
      console.error(`<wechat-scan-login> ${m.error!.code}: ${FIX[m.error!.code]!(this.siteKey!, m.error!.message!)}`);
    }
    for (const [name, detail] of out) this.__emit(name, detail);
    if (m.state == 'expired' && before != 'expired' && this.autoRefresh) this.refresh();
    if (m.state == 'ready') this.__busyTries = 0;
    if (m.state == 'error' && before != 'error' && m.error!.code == 'codes_busy') this.__busy = setTimeout(() => this.refresh(), backoff(++this.__busyTries, Math.random, 1000, 15_000));
  }

  private __emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  private __plain(code: string): string {
    const t = this.__s;
    // Server error codes and the UI's string keys never overlap, so a code is its own key.
    return t[code as keyof Strings] ?? t.error;
  }

  private __again(): void {
    // The button under the keyboard focus disappears with the refresh: keep focus in the widget.
    const refocus = this.renderRoot.querySelector(':focus') != null;
    this.refresh();
    if (refocus) void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('.frame')?.focus());
  }

  protected override render() {
    const t = this.__s;
    const { state, session: s, error, reconnecting } = this.__m;
    const final = state == 'error' && isFinal(error!.code);
    const ended = state == 'expired' || state == 'cancelled' || state == 'error';
    const phone = state == 'ready' && PHONE.test(navigator.userAgent);
    const status = reconnecting ? t.reconnecting : state == 'error' ? this.__plain(error!.code) : t[state];
    return html`<div part="base" class="box">
      <div part="header" class="head">${MARK}<span>${t.title}</span></div>
      <div class="frame" tabindex="-1">
        ${s && state != 'error'
          ? html`<img part="code" src=${new URL(s.qr, this.__base + '/').href} alt=${t.alt} />`
          : html`<div class="skel"></div>`}
        ${state == 'scanned'
          ? html`<div class="over"><b class="match" part="match">${s!.match}</b><small>${t.match}</small></div>`
          : state == 'success'
            ? html`<div class="over"><span class="ok" aria-hidden="true">✓</span></div>`
            : final
              ? html`<div class="over"><span class="ok no" aria-hidden="true">!</span></div>`
              : ended
                ? html`<button class="over" @click=${this.__again}><span class="btn" part="button">${state == 'error' ? t.retry : t.refresh}</span></button>`
                : ''}
      </div>
      <p part="status" role="status">${status}</p>
      <small>${state == 'ready' && !reconnecting ? t.countdown.replace('{s}', String(this.__left)) : '\u00a0'}</small>
      ${phone
        ? s!.urlLink
          ? html`<p><a class="btn" part="button" href=${s!.urlLink}>${t.openInWechat}</a></p>`
          : html`<small>${t.saveHint}</small>`
        : !this.siteKey?.startsWith('pk_live_')
          ? // Test mode: the sandbox phone plays the mini-program; the line is kept in every state so nothing moves.
            html`<small>${state == 'ready'
              ? html`<a part="sandbox" href=${`${this.__base}/sandbox/phone?scene=${s!.session}`} target="_blank" rel="noopener">${t.sandboxPhone}</a>`
              : '\u00a0'}</small>`
          : ''}
    </div>`;
  }
}
