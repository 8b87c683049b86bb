import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths that may carry secrets; pino replaces them before anything is written. */
const REDACT = [
  'secret', '*.secret', 'appSecret', '*.appSecret', 'token', '*.token', 'password', '*.password',
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers.cookie',
  'headers.authorization', 'headers.cookie', 'access_token', '*.access_token', 'session_key', '*.session_key',
  'code', '*.code_verifier', 'privateKey', '*.privateKey', 'ticket', '*.ticket',
];

export function createLogger(level: string, name = 'wechat-scan-login'): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '[redacted]' } });
}
