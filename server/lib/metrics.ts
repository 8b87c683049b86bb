import { Counter, Histogram, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** A registry per server instance, so two in-process servers (tests) don't share counters. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    sessionsCreated: new Counter({ name: 'wsl_sessions_created_total', help: 'Login sessions opened', labelNames: ['mode'], registers: [registry] }),
    sessionTransitions: new Counter({ name: 'wsl_session_transitions_total', help: 'Session state changes', labelNames: ['state'], registers: [registry] }),
    openSockets: new Gauge({ name: 'wsl_open_sockets', help: 'Open widget WebSockets on this instance', registers: [registry] }),
    codeImages: new Counter({ name: 'wsl_code_images_total', help: 'Code images served: drawn here (link), from WeChat or its cache (wxacode), or refused as busy', labelNames: ['style', 'outcome'], registers: [registry] }),
    wechatCalls: new Counter({ name: 'wsl_wechat_calls_total', help: 'Calls to the WeChat API', labelNames: ['api', 'outcome'], registers: [registry] }),
    httpDuration: new Histogram({
      name: 'wsl_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 25], registers: [registry],
    }),
    webhookAttempts: new Counter({ name: 'wsl_webhook_attempts_total', help: 'Webhook delivery attempts', labelNames: ['outcome'], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
