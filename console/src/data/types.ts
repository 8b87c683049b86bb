/** Shapes of the console API's answers (server/features/console). Dates arrive as ISO strings. */
export type Role = 'owner' | 'admin' | 'viewer';
export type Mode = 'test' | 'live';

export interface TenantRef { id: string; name: string; plan: string; role: Role }
export interface Me { account: { id: string; email: string; name: string | null }; tenants: TenantRef[]; csrfToken: string }
export interface Page<T> { data: T[]; nextCursor: string | null }

export interface App {
  id: string;
  name: string;
  displayName: string | null;
  logoUrl: string | null;
  wechatAppId: string | null;
  hasWechatSecret: boolean;
  liveReady: boolean;
  allowedOrigins: string[];
  mpPage: string;
  envVersion: 'release' | 'trial' | 'develop';
  checkPath: boolean;
  sessionTtlSeconds: number;
  tokenTtlSeconds: number;
  urlLinkEnabled: boolean;
  createdAt: string;
  updatedAt: string;
  advice?: string[];
}

export interface KeyPair { publishable: string; secret: string }
export interface CreatedApp { app: App; keys: { test: KeyPair; live?: KeyPair } }

export interface ApiKey {
  id: string;
  kind: 'publishable' | 'secret';
  mode: Mode;
  name: string | null;
  key?: string | null;
  displayPrefix: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

export interface SigningKey { kid: string; alg: string; createdAt: string; retiredAt: string | null; publishUntil: string | null }

export interface VerifyFailure { errcode: number; errmsg: string; title: string; advice: string; ip?: string }
export interface VerifyAnswer { ok: boolean; checks: Array<{ name: string; ok: boolean; failure?: VerifyFailure }>; advice: string[] }

export interface EndUser {
  id: string; mode: Mode; openid: string; unionid: string | null; nickname: string | null; avatarUrl: string | null;
  loginCount: number; firstLoginAt: string; lastLoginAt: string;
}

export type EventStatus = 'succeeded' | 'cancelled' | 'expired' | 'failed';
export interface LoginEvent {
  id: string; mode: Mode; status: EventStatus; userId: string | null; openid: string | null; origin: string | null;
  browser: string | null; os: string | null; ip: string | null; location: string | null; errorCode: string | null; createdAt: string;
}
export interface DayStats { day: string; succeeded: number; cancelled: number; expired: number; failed: number }

export interface Member { accountId: string; email: string; name: string | null; role: Role; joinedAt: string }
export interface InvitationPreview { tenant: { name: string }; role: Role; invitedBy: string | null; expiresAt: string }
export interface Invitation { id: string; role: Role; expiresAt: string; createdAt: string; createdBy: string | null }
