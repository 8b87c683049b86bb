import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { codeCheckFiles } from '../../db/schema/index';

/**
 * WeChat's check file: a random name ending in .txt with a short token inside. Anything else
 * is not that file, and serving it from our origin would let a tenant publish arbitrary text.
 */
export const CHECK_FILE_NAME = /^[A-Za-z0-9_-]{1,64}\.txt$/;
export const checkFileBody = z.object({
  fileName: z.string().trim().regex(CHECK_FILE_NAME, 'must be the file WeChat gave you, like AbCd123456.txt'),
  content: z.string().trim().min(1, 'is required').max(256, 'is at most 256 characters: paste the file WeChat gave you')
    .regex(/^[\x21-\x7e]+$/, 'must be the file\'s text exactly (letters and digits, no spaces)'),
}).strict();
export type CheckFile = z.infer<typeof checkFileBody>;

/** The file WeChat fetches for this app, or null. Not tenant-scoped: WeChat is anonymous. */
export async function servedCheckFile(db: Db, appId: string, fileName: string): Promise<string | null> {
  const [row] = await db.select({ content: codeCheckFiles.content }).from(codeCheckFiles)
    .where(and(eq(codeCheckFiles.appId, appId), eq(codeCheckFiles.fileName, fileName))).limit(1);
  return row?.content ?? null;
}

export async function getCheckFile(db: Db, tenantId: string, appId: string): Promise<CheckFile | null> {
  const [row] = await db.select({ fileName: codeCheckFiles.fileName, content: codeCheckFiles.content }).from(codeCheckFiles)
    .where(and(eq(codeCheckFiles.appId, appId), eq(codeCheckFiles.tenantId, tenantId))).limit(1);
  return row ?? null;
}

/** One per app: WeChat asks for a new one when the rule is set again, and the old one is then useless. */
export async function putCheckFile(db: Db, tenantId: string, appId: string, file: CheckFile): Promise<void> {
  await db.insert(codeCheckFiles).values({ appId, tenantId, ...file })
    .onConflictDoUpdate({ target: codeCheckFiles.appId, set: { ...file, updatedAt: new Date() } });
}

export async function deleteCheckFile(db: Db, tenantId: string, appId: string): Promise<void> {
  await db.delete(codeCheckFiles).where(and(eq(codeCheckFiles.appId, appId), eq(codeCheckFiles.tenantId, tenantId)));
}
