import WebSocket from 'ws';

export type Frame = { type: string; code?: string; [k: string]: unknown };

export const USER_AGENT = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';

/** Raised when the server sends something other than the frame waited for. */
export class FrameError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/**
 * One widget's WebSocket, as lean as possible: frames are stamped with their arrival time
 * (performance.now) the moment they are parsed, so latencies don't include the bench's own
 * scheduling after the fact.
 */
export class BenchBrowser {
  private readonly queue: Array<{ frame: Frame; at: number }> = [];
  private waiter: (() => void) | null = null;
  closed = false;
  closeCode = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const at = performance.now();
      let frame: Frame;
      try {
        frame = JSON.parse(data.toString()) as Frame;
      } catch {
        frame = { type: 'unparseable' };
      }
      this.queue.push({ frame, at });
      this.wake();
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => {
      // 'close' follows; the waiter reports it.
    });
  }

  private wake() {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  static open(wsUrl: string, origin: string): Promise<BenchBrowser> {
    return new Promise((ok, fail) => {
      const ws = new WebSocket(wsUrl, { headers: { origin, 'user-agent': USER_AGENT }, perMessageDeflate: false, handshakeTimeout: 15_000 });
      const b = new BenchBrowser(ws);
      ws.once('open', () => ok(b));
      ws.once('error', (err: NodeJS.ErrnoException) => fail(new FrameError(`ws_${err.code ?? 'error'}`, err.message)));
    });
  }

  /** The next frame, which must be of `type`; resolves with its arrival time. */
  async next(type: string, timeoutMs = 15_000): Promise<{ frame: Frame; at: number }> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.closed) throw new FrameError(`closed_${this.closeCode}_before_${type}`, `socket closed (${this.closeCode}) while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new FrameError(`timeout_${type}`, `no ${type} frame within ${timeoutMs} ms`);
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, left);
        this.waiter = () => {
          clearTimeout(t);
          ok();
        };
      });
    }
    const got = this.queue.shift()!;
    if (got.frame.type !== type) {
      const code = got.frame.type === 'error' ? `ws_error:${got.frame.code ?? '?'}` : `unexpected_${got.frame.type}_for_${type}`;
      throw new FrameError(code, `expected ${type}, got ${JSON.stringify(got.frame).slice(0, 200)}`);
    }
    return got;
  }

  close() {
    if (!this.closed) this.ws.terminate();
  }
}
