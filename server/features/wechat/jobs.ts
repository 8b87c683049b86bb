import type { Job } from 'bullmq';
import type { RedisClient } from '../../lib/redis';
import { z } from 'zod';
import { envVersionSchema, modeSchema } from '../../../contract/common.js';
import { LOCAL, WechatError, serializeWechatError } from './errors';
import type { WechatClient, WechatCredentials } from './client';
import type { KeyMode } from '../../lib/ids';
import type { Logger } from '../../lib/logger';
import { pipelineValues } from '../../lib/redis';

export const WECHAT_QUEUE = 'wechat';

/** `caller`: the instance waiting for the outcome (its id names its reply channel). */
const callerOf = z.string().regex(/^[\w-]{1,64}$/);
const ref = { appId: z.string().min(1).max(64), mode: modeSchema, caller: callerOf.optional() };
const envVersion = envVersionSchema;

/** Job payloads: ids and public parameters only. The one-time wx.login code is not a credential. */
export const jobSchemas = {
  getwxacodeunlimit: z.object({
    ...ref,
    scene: z.string().min(1).max(32),
    page: z.string().max(256),
    checkPath: z.boolean(),
    envVersion,
    width: z.number().int().optional(),
  }),
  jscode2session: z.object({ ...ref, code: z.string().min(1).max(256) }),
  generate_urllink: z.object({ ...ref, page: z.string().max(256), query: z.string().max(1024), envVersion }),
} as const;

export type WechatJobName = keyof typeof jobSchemas;
export type WechatJobData<N extends WechatJobName> = z.infer<(typeof jobSchemas)[N]>;

/** What the worker leaves in Redis for the waiting caller (not the job's return value: images stay out of the events stream). */
export type JobOutcome =
  | { ok: true; value: { contentType: string; body: string } | { openid: string; unionid?: string } | { url: string } }
  | { ok: false; error: ReturnType<WechatError['toJSON']> };

type OkValue = Extract<JobOutcome, { ok: true }>['value'];

export const OUTCOME_TTL_MS = 60_000;

export interface ProcessorDeps {
  client: WechatClient;
  redis: RedisClient;
  logger: Logger;
  outcomeKey(jobId: string): string;
  /** The pub/sub channel of a calling instance (see gateway.ts). */
  replyChannel(instanceId: string): string;
  /** Hands the outcome to a caller in this process, if the job is one of its calls; true when it did. */
  answerLocally?(caller: string, jobId: string, outcome: JobOutcome): boolean;
  /** The API base and credentials for an app in a mode; loads live secrets itself. */
  credentials(appId: string, mode: KeyMode): Promise<{ base: string; creds: WechatCredentials }>;
}

export function createWechatProcessor(deps: ProcessorDeps) {
  async function run(job: Job): Promise<OkValue> {
    switch (job.name as WechatJobName) {
      case 'getwxacodeunlimit': {
        const d = jobSchemas.getwxacodeunlimit.parse(job.data);
        const { base, creds } = await deps.credentials(d.appId, d.mode);
        const img = await deps.client.getwxacodeunlimit(base, creds, d);
        return { contentType: img.contentType, body: img.body.toString('base64') };
      }
      case 'jscode2session': {
        const d = jobSchemas.jscode2session.parse(job.data);
        const { base, creds } = await deps.credentials(d.appId, d.mode);
        return deps.client.jscode2session(base, creds, d.code);
      }
      case 'generate_urllink': {
        const d = jobSchemas.generate_urllink.parse(job.data);
        const { base, creds } = await deps.credentials(d.appId, d.mode);
        return { url: await deps.client.generateUrlLink(base, creds, d) };
      }
      default:
        throw new WechatError('queue', LOCAL.badResponse, `unknown job ${job.name}`);
    }
  }

  /** The key for a caller that missed the message, and the message: one round trip. */
  async function answer(job: Job, outcome: JobOutcome): Promise<void> {
    const caller = callerOf.safeParse((job.data as { caller?: unknown }).caller);
    if (caller.success && deps.answerLocally?.(caller.data, String(job.id), outcome)) return;
    const json = JSON.stringify(outcome);
    const batch = deps.redis.pipeline().set(deps.outcomeKey(String(job.id)), json, 'PX', OUTCOME_TTL_MS);
    if (caller.success) batch.publish(deps.replyChannel(caller.data), `${job.id} ${json}`);
    await pipelineValues(batch);
  }

  return async (job: Job): Promise<boolean> => {
    try {
      const value = await run(job);
      await answer(job, { ok: true, value });
      return true;
    } catch (err) {
      const we = err instanceof WechatError ? err : new WechatError('queue', LOCAL.badResponse, `job failed: ${(err as Error).message}`.slice(0, 200));
      // Ids and codes only: URLs, tokens and secrets never reach the log.
      const data = job.data as { appId?: string; mode?: string };
      deps.logger[we.transient ? 'warn' : 'info']({ job: job.name, appId: data.appId, mode: data.mode, api: we.api, errcode: we.errcode }, 'wechat call failed');
      await answer(job, { ok: false, error: we.toJSON() });
      // Failing the job too keeps BullMQ's view (and its metrics) honest.
      throw new Error(serializeWechatError(we));
    }
  };
}
