/**
 * The slice of oidc-provider v9's API this feature uses. The package ships no types and
 * @types/oidc-provider trails the major versions, so the surface is declared here, narrowly.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AdapterPayload = Record<string, unknown> & { uid?: string; grantId?: string; consumed?: number };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface ClientInstance {
    clientId: string;
    clientAuthMethod: string;
    redirectUris: string[];
    [extra: string]: unknown;
  }

  export interface KoaContextWithOIDC {
    oidc: {
      client?: ClientInstance;
      route: string;
      result?: { login?: unknown } & Record<string, unknown>;
      params?: Record<string, unknown>;
    };
    type: string;
    body: unknown;
    status: number;
    get(header: string): string;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown> & { client_id?: string; scope?: string; ui_locales?: string };
    returnTo: string;
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  export type Configuration = Record<string, unknown>;

  export class Provider {
    constructor(issuer: string, configuration: Configuration);
    readonly issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
    on(event: string, listener: (...args: any[]) => void): this;
    Grant: new (init: { accountId: string; clientId: string }) => GrantInstance;
    Client: { prototype: { compareClientSecret(this: ClientInstance & { clientSecret?: string }, actual: string): Promise<boolean> | boolean } };
  }

  export class Check {
    constructor(reason: string, description: string, check: (ctx: KoaContextWithOIDC) => boolean | Promise<boolean>);
    static readonly REQUEST_PROMPT: boolean;
    static readonly NO_NEED_TO_PROMPT: boolean;
  }

  export interface Prompt {
    name: string;
    checks: Check[] & { add(check: Check, index?: number): void };
  }

  export const interactionPolicy: {
    Check: typeof Check;
    base(): Prompt[] & { get(name: string): Prompt | undefined };
  };

  class OIDCProviderError extends Error {
    constructor(status: number, message: string);
    error: string;
    error_description?: string;
    status: number;
    /** Whether `error` reaches the client (else it is an opaque server_error); false for 5xx. */
    expose: boolean;
  }
  class DescribedError extends OIDCProviderError {
    constructor(description?: string);
  }
  export const errors: {
    OIDCProviderError: typeof OIDCProviderError;
    InvalidGrant: typeof DescribedError;
    SessionNotFound: typeof DescribedError;
  };

  export default Provider;
}
