import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { ApiError } from '../../lib/errors';

export interface Upload {
  fields: Record<string, string>;
  file: Buffer | null;
}

/**
 * Reads what wx.uploadFile sends: multipart/form-data with one file part (`fileField`) and a
 * few short text fields. Everything is bounded: a too-large file is refused as soon as it
 * passes the limit, without reading the rest.
 */
export function readMultipart(req: IncomingMessage, opts: { fileField: string; maxFileBytes: number; maxFields: number }): Promise<Upload> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        // busboy signals `limit` on reaching fileSize, so one byte more means "over the maximum".
        limits: { fileSize: opts.maxFileBytes + 1, files: 1, fields: opts.maxFields, fieldSize: 512, parts: opts.maxFields + 1, headerPairs: 20 },
      });
    } catch {
      reject(new ApiError('bad_request', 'Send the avatar as multipart/form-data (what wx.uploadFile sends)'));
      return;
    }
    const fields: Record<string, string> = {};
    const chunks: Buffer[] = [];
    let sawFile = false;
    let failed = false;
    const fail = (err: ApiError) => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      req.resume(); // drain what is left so the answer can still be sent
      reject(err);
    };

    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new ApiError('bad_request', `Field ${name} is too long`));
      fields[name] = value;
    });
    bb.on('file', (name, stream) => {
      if (name !== opts.fileField || sawFile) {
        stream.resume();
        return;
      }
      sawFile = true;
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => fail(new ApiError('payload_too_large', `The avatar must be at most ${Math.floor(opts.maxFileBytes / 1024)} KB`)));
    });
    bb.on('fieldsLimit', () => fail(new ApiError('bad_request', 'Too many form fields')));
    bb.on('partsLimit', () => fail(new ApiError('bad_request', 'Too many form parts')));
    bb.on('error', () => fail(new ApiError('bad_request', 'The multipart body could not be read')));
    bb.on('close', () => {
      if (!failed) resolve({ fields, file: sawFile ? Buffer.concat(chunks) : null });
    });
    req.pipe(bb);
  });
}

/** The image type from the bytes themselves: a temp file's name and declared type can't be trusted. */
export function sniffImageType(b: Buffer): 'image/png' | 'image/jpeg' | 'image/webp' | null {
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return null;
}
