import { Agent, request } from 'node:http';

/**
 * A lean keep-alive HTTP client for the "phones": node:http with a pooled Agent costs the
 * benchmark process far less CPU than fetch, and that CPU is shared with the server here.
 */
export function createHttpClient(baseUrl: string, maxSockets: number) {
  const base = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });

  function send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; body: Buffer }> {
    return new Promise((ok, fail) => {
      const req = request(
        { agent, host: base.hostname, port: base.port, method, path, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', fail);
        },
      );
      req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
      req.on('error', fail);
      req.end(body);
    });
  }

  return {
    async postJson(path: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
      const res = await send('POST', path, JSON.stringify(payload), headers);
      const text = res.body.toString();
      let json: Record<string, unknown> = {};
      try {
        json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        json = { raw: text.slice(0, 200) };
      }
      return { status: res.status, json };
    },
    get: (path: string, headers: Record<string, string> = {}) => send('GET', path, undefined, headers),
    close: () => agent.destroy(),
  };
}

export type HttpClient = ReturnType<typeof createHttpClient>;

/** The error code of a JSON error body, or the status when there is none. */
export function errorCodeOf(res: { status: number; json: Record<string, unknown> }): string {
  const err = res.json.error as { code?: unknown } | undefined;
  return typeof err?.code === 'string' ? `${res.status}:${err.code}` : `http_${res.status}`;
}
