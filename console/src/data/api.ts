import type { App, ApiKey, CodeLinkSetup, CreatedApp, DayStats, EndUser, Invitation, InvitationPreview, LoginEvent, Me, Member, Mode, Page, Role, SignUpAnswer, SigningKey, TenantRef, UserExport, VerifyAnswer } from './types';

/** An error the API answered with: `code` for branching, `message` already in plain words. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For a refused input: which field (its path in the request body) and why, in plain words. */
    readonly field?: { name: string; reason: string },
  ) {
    super(message);
  }
}

let csrfToken = '';
/** Pages listen for this to send the person back to sign-in when the session ends. */
export const sessionEvents = new EventTarget();

/** One console API call with the session's CSRF token; pages with their own endpoints use it too. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(`/console/api${path}`, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiFailure(0, 'network', 'Could not reach the server. Check your connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => null)) as { error?: { code: string; message: string; details?: { field?: unknown; reason?: unknown } } } | null;
  if (!res.ok) {
    // A stale token (another tab signed in again): fetch the current one for the next call.
    if (res.status === 403 && data?.error?.code === 'csrf_failed') void api.me().catch(() => {});
    const d = data?.error?.details;
    const field = typeof d?.field === 'string' && typeof d.reason === 'string' ? { name: d.field, reason: d.reason } : undefined;
    const err = new ApiFailure(res.status, data?.error?.code ?? 'internal', data?.error?.message ?? `The server answered ${res.status}`, field);
    if (res.status === 401 && !path.startsWith('/auth/sign')) sessionEvents.dispatchEvent(new Event('signedout'));
    throw err;
  }
  return data as T;
}

function remember(me: Me): Me {
  csrfToken = me.csrfToken;
  return me;
}

const q = (params: Record<string, string | number | undefined | null>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const t = s.toString();
  return t ? `?${t}` : '';
};

const t = (tenantId: string) => `/tenants/${encodeURIComponent(tenantId)}`;
const a = (tenantId: string, appId: string) => `${t(tenantId)}/apps/${encodeURIComponent(appId)}`;

export const api = {
  me: async () => remember(await call<Me>('GET', '/auth/me')),
  signIn: async (email: string, password: string) => remember(await call<Me>('POST', '/auth/signin', { email, password })),
  /**
   * Sign-up answers the same whether or not the email already has an account, so it reveals
   * nothing; signing in with the same email and password follows. Someone who already had an
   * account joins the inviting organisation then, as a signed-in person.
   */
  signUp: async (body: { email: string; password: string; name?: string; organisation?: string; invitation?: string }) => {
    await call<SignUpAnswer>('POST', '/auth/signup', body);
    let me: Me;
    try {
      me = await api.signIn(body.email, body.password);
    } catch (err) {
      if (err instanceof ApiFailure && err.status === 401) {
        throw new ApiFailure(401, 'unauthorized', 'This email may already have an account. Sign in with its password instead.');
      }
      throw err;
    }
    if (!body.invitation) return me;
    // A new account joined during sign-up and the link is spent; an existing one joins now.
    const joined = await api.acceptInvitation(body.invitation).then(() => true, () => false);
    return joined ? api.me() : me;
  },
  signOut: () => call<void>('POST', '/auth/signout'),
  createTenant: (name: string) => call<TenantRef>('POST', '/tenants', { name }),
  previewInvitation: (token: string) => call<InvitationPreview>('POST', '/invitations/preview', { token }),
  acceptInvitation: (token: string) => call<{ tenant: { id: string; name: string }; role: Role }>('POST', '/invitations/accept', { token }),

  tenant: (tenantId: string) => call<TenantRef>('GET', t(tenantId)),
  renameTenant: (tenantId: string, name: string) => call<TenantRef>('PATCH', t(tenantId), { name }),
  members: (tenantId: string) => call<{ data: Member[] }>('GET', `${t(tenantId)}/members`),
  setRole: (tenantId: string, accountId: string, role: Role) => call<{ data: Member[] }>('PATCH', `${t(tenantId)}/members/${accountId}`, { role }),
  removeMember: (tenantId: string, accountId: string) => call<void>('DELETE', `${t(tenantId)}/members/${accountId}`),
  invitations: (tenantId: string) => call<{ data: Invitation[] }>('GET', `${t(tenantId)}/invitations`),
  invite: (tenantId: string, role: Role) => call<{ id: string; role: Role; expiresAt: string; url: string }>('POST', `${t(tenantId)}/invitations`, { role }),
  revokeInvitation: (tenantId: string, id: string) => call<void>('DELETE', `${t(tenantId)}/invitations/${id}`),

  apps: (tenantId: string, cursor?: string) => call<Page<App>>('GET', `${t(tenantId)}/apps${q({ cursor, limit: 50 })}`),
  createApp: (tenantId: string, body: { name: string; allowedOrigins: string[] }) => call<CreatedApp>('POST', `${t(tenantId)}/apps`, body),
  app: (tenantId: string, appId: string) => call<App>('GET', a(tenantId, appId)),
  updateApp: (tenantId: string, appId: string, patch: Record<string, unknown>) =>
    call<App & { newLiveKeys?: { publishable: string; secret: string } }>('PATCH', a(tenantId, appId), patch),
  deleteApp: (tenantId: string, appId: string) => call<void>('DELETE', a(tenantId, appId)),
  verify: (tenantId: string, appId: string) => call<VerifyAnswer>('POST', `${a(tenantId, appId)}/verify`),
  codeLink: (tenantId: string, appId: string) => call<CodeLinkSetup>('GET', `${a(tenantId, appId)}/code-link`),
  putCheckFile: (tenantId: string, appId: string, file: { fileName: string; content: string }) =>
    call<CodeLinkSetup>('PUT', `${a(tenantId, appId)}/code-link/check-file`, file),
  deleteCheckFile: (tenantId: string, appId: string) => call<void>('DELETE', `${a(tenantId, appId)}/code-link/check-file`),

  keys: (tenantId: string, appId: string) => call<{ data: ApiKey[] }>('GET', `${a(tenantId, appId)}/keys`),
  createKey: (tenantId: string, appId: string, name: string, mode: Mode) =>
    call<{ id: string; name: string; mode: Mode; displayPrefix: string; secret: string }>('POST', `${a(tenantId, appId)}/keys`, { name, mode }),
  revokeKey: (tenantId: string, appId: string, keyId: string) => call<void>('DELETE', `${a(tenantId, appId)}/keys/${keyId}`),
  signingKeys: (tenantId: string, appId: string) => call<{ data: SigningKey[] }>('GET', `${a(tenantId, appId)}/signing-keys`),
  rotateSigningKey: (tenantId: string, appId: string) => call<{ kid: string; data: SigningKey[] }>('POST', `${a(tenantId, appId)}/signing-keys/rotate`),

  users: (tenantId: string, appId: string, p: { q?: string; mode?: Mode | ''; cursor?: string }) =>
    call<Page<EndUser>>('GET', `${a(tenantId, appId)}/users${q({ ...p, limit: 25 })}`),
  exportUser: (tenantId: string, appId: string, userId: string) => call<UserExport>('GET', `${a(tenantId, appId)}/users/${encodeURIComponent(userId)}/export`),
  deleteUser: (tenantId: string, appId: string, userId: string) => call<{ id: string; deleted: true }>('DELETE', `${a(tenantId, appId)}/users/${encodeURIComponent(userId)}`),
  events: (tenantId: string, appId: string, p: { status?: string; mode?: string; origin?: string; from?: string; to?: string; cursor?: string }) =>
    call<Page<LoginEvent>>('GET', `${a(tenantId, appId)}/events${q({ ...p, limit: 25 })}`),
  origins: (tenantId: string, appId: string) => call<{ data: string[] }>('GET', `${a(tenantId, appId)}/origins`),
  dailyStats: (tenantId: string, appId: string, days: number, mode?: string) =>
    call<{ data: DayStats[] }>('GET', `${a(tenantId, appId)}/stats/daily${q({ days, mode })}`),
  eventStreamUrl: (tenantId: string, appId: string) => `/console/api${a(tenantId, appId)}/events/stream`,
};
