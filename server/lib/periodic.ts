/**
 * Background work on a timer, one pass at a time: a pass still running when the next tick
 * comes is not started twice, and `stop` waits for the pass in flight. The timer doesn't keep
 * the process alive. `pass` reports its own failures; a rejection here is only logged.
 */
export function createPeriodic(pass: () => Promise<void>, intervalMs: number, onError: (err: Error) => void) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  function tick() {
    if (running) return;
    running = pass()
      .catch(onError)
      .finally(() => { running = undefined; });
  }

  return {
    /** Runs a pass now, then every `intervalMs`. */
    start() {
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
