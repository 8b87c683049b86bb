/**
 * A tiny console API client for tests: keeps the session cookie and CSRF token like the SPA
 * does, and sends the same-origin Origin header a browser would.
 */
export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class ConsoleClient {
  cookie: string | undefined;
  csrf: string | undefined;

  /** `ip`: the client address a trusted proxy reports in X-Forwarded-For (servers trust loopback by default). */
  constructor(readonly base: string, readonly opts: { ip?: string } = {}) {}

  async call<T = any>(method: string, path: string, body?: unknown, opts: { csrf?: string | null; origin?: string | null } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.cookie) headers.cookie = this.cookie;
    if (this.opts.ip) headers['x-forwarded-for'] = this.opts.ip;
    const csrf = opts.csrf === undefined ? this.csrf : opts.csrf;
    if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
    const origin = opts.origin === undefined ? this.base : opts.origin;
    if (origin && method !== 'GET') headers.origin = origin;
    const res = await fetch(`${this.base}/console/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      if (pair && /^(__Host-)?wsl_console=/.test(pair)) this.cookie = /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c) ? undefined : pair;
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* SSE or plain text */
    }
    if (parsed && typeof parsed === 'object' && 'csrfToken' in parsed) this.csrf = String((parsed as { csrfToken: string }).csrfToken);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /** The token of the newest `/console/{page}?token=` link mailed to `email`, from the dev mailbox. */
  async mailedToken(email: string, page: 'verify' | 'reset'): Promise<string | undefined> {
    const res = await fetch(`${this.base}/console/dev/mailbox.json`);
    const box = (await res.json()) as { data: Array<{ to: string; text: string }> };
    const m = box.data.find((x) => x.to === email.trim().toLowerCase() && x.text.includes(`/console/${page}?token=`));
    return m ? new URL(/https?:\/\/\S+/.exec(m.text)![0]).searchParams.get('token') ?? undefined : undefined;
  }

  get = <T = any>(path: string) => this.call<T>('GET', path);
  post = <T = any>(path: string, body: unknown = {}) => this.call<T>('POST', path, body);
  patch = <T = any>(path: string, body: unknown = {}) => this.call<T>('PATCH', path, body);
  del = <T = any>(path: string) => this.call<T>('DELETE', path);

  /**
   * What a new owner does: sign up (which never says whether the email was new), follow the
   * link in the mail (here from the development mailbox a server without SMTP_URL keeps),
   * then sign in.
   */
  async signUp(email: string, password = 'correct horse battery', organisation?: string) {
    const up = await this.post('/auth/signup', { email, password, organisation });
    if (up.status !== 202) throw new Error(`signup ${up.status} ${JSON.stringify(up.body)}`);
    const token = await this.mailedToken(email, 'verify');
    if (token) await this.post('/auth/verify', { token });
    const r = await this.post('/auth/signin', { email, password });
    if (r.status !== 200) throw new Error(`signin after signup ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as { account: { id: string; email: string }; tenants: Array<{ id: string; name: string; role: string }>; csrfToken: string };
  }
}
