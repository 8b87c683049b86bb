import type { Frame } from '../../../contract/sessions.js';

export { SESSION_ID, type ClientFrame, type Frame } from '../../../contract/sessions.js';

export function errorFrame(code: string, message: string): Frame {
  return { type: 'error', code, message };
}
