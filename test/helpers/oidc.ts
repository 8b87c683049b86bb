import * as oidc from 'openid-client';
import type { RunningServer } from '../../server/main';
import { openSocket, postJson, testScan } from './login';

export const RP_REDIRECT = 'http://localhost:5999/callback';

/** A cookie jar good enough for one browser talking to one host: name → value, paths ignored. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();
  /** Raw Set-Cookie lines seen, for assertions on their attributes. */
  readonly seen: string[] = [];
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      this.seen.push(line);
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** A fetch as openid-client calls it (so one stand-in proxy serves the RP and the browser). */
export type Fetch = oidc.CustomFetch;
type BrowseInit = { method?: string; headers?: Record<string, string>; body?: string };
/** No proxy: the request goes where its URL says. */
export const direct: Fetch = (url, options) => fetch(url, options as RequestInit);

/** One request as a browser makes it (no redirects followed), keeping cookies; `via` stands in for a proxy. */
export async function browse(jar: CookieJar, url: string, init: BrowseInit = {}, via: Fetch = direct): Promise<Response> {
  const res = await via(url, { method: init.method ?? 'GET', body: init.body, redirect: 'manual', headers: { ...init.headers, cookie: jar.header() } });
  jar.take(res);
  return res;
}

export interface ClientCreds {
  client_id: string;
  client_secret?: string;
}

export function createClient(server: RunningServer, secretKey: string, body: Record<string, unknown> = {}) {
  return postJson(`${server.url}/v1/oidc_clients`, { name: 'Relying party', redirect_uris: [RP_REDIRECT], ...body }, { authorization: `Bearer ${secretKey}` });
}

/** openid-client's discovery of an app's issuer; http is allowed since tests run on loopback. */
export async function discover(issuer: string, creds: ClientCreds, clientAuth?: oidc.ClientAuth, via?: Fetch): Promise<oidc.Configuration> {
  const execute = issuer.startsWith('http://') ? [oidc.allowInsecureRequests] : [];
  const config = await oidc.discovery(new URL(issuer), creds.client_id, creds.client_secret, clientAuth, { execute, [oidc.customFetch]: via });
  if (via) config[oidc.customFetch] = via;
  return config;
}

/** A login on the element's socket at the hosted page's origin, confirmed with the test helper. */
export async function elementLogin(server: RunningServer, keys: { publishable: string; secret: string }, origin: string, openid?: string, phoneCode?: () => Promise<string>): Promise<string> {
  const sock = await openSocket(server.url, keys.publishable, { origin });
  try {
    const s = await sock.next('session');
    const scan = await testScan(server.url, keys.secret, String(s.session), openid);
    if (scan.status !== 200) throw new Error(`scan refused: ${JSON.stringify(scan.body)}`);
    await postJson(`${server.url}/v1/mp/confirm`, { scene: s.session, ticket: scan.body.ticket, ...(phoneCode ? { phoneCode: await phoneCode() } : {}) });
    await sock.next('scanned');
    return String((await sock.next('success')).token);
  } finally {
    sock.close();
  }
}

export interface AuthorizeStart {
  jar: CookieJar;
  via: Fetch;
  /** The hosted page's URL (the interaction). */
  interactionUrl: string;
}

/** The browser's first hop: authorize → the hosted page. */
export async function startAuthorize(url: URL, jar = new CookieJar(), via: Fetch = direct): Promise<AuthorizeStart> {
  const res = await browse(jar, url.href, {}, via);
  if (res.status !== 303 && res.status !== 302) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  return { jar, via, interactionUrl: new URL(res.headers.get('location')!, url).href };
}

/** Posts the element's token to the interaction and follows the provider's redirects to the RP's redirect URI. */
export async function finishWithToken(start: AuthorizeStart, token: string): Promise<URL> {
  let res = await browse(start.jar, `${start.interactionUrl}/login`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString(),
  }, start.via);
  let url = new URL(`${start.interactionUrl}/login`);
  for (let hops = 0; hops < 5; hops++) {
    if (res.status !== 303 && res.status !== 302) throw new Error(`expected a redirect, got ${res.status}: ${await res.text()}`);
    url = new URL(res.headers.get('location')!, url);
    if (url.href.startsWith(RP_REDIRECT) || !url.pathname.includes('/oauth2/')) return url;
    res = await browse(start.jar, url.href, {}, start.via);
  }
  throw new Error('too many redirects');
}
