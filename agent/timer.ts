/** Timing parts of the watch loop: a sleep that can be cut short, and looks that never overlap. */

/** The longest delay setTimeout takes (2^31 − 1 ms, about 24.8 days); longer ones fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A sleep that ends early on wake() or abort. */
export class Waker {
  private wakeUp: (() => void) | undefined;
  constructor(private readonly signal: AbortSignal) {}

  /** Sleeps `ms` (clamped to [0, MAX_TIMEOUT_MS]), or until wake() or abort. */
  wait(ms: number): Promise<void> {
    if (this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', done);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(ms, MAX_TIMEOUT_MS)));
      this.signal.addEventListener('abort', done, { once: true });
      this.wakeUp = done;
    });
  }

  /** Ends the current wait, if any. */
  wake(): void {
    this.wakeUp?.();
  }
}

/**
 * Runs `run` one call at a time: a request while one runs is kept (the latest
 * reason wins) and run once after it, so a burst of requests makes at most two runs.
 * A run that throws goes to `onError`; nothing runs after `signal` aborts.
 */
export const oneAtATime = <R>(
  run: (reason: R) => Promise<unknown>,
  signal: AbortSignal,
  onError: (reason: R, e: unknown) => void,
): { request: (reason: R) => void; idle: () => Promise<void> } => {
  let running: Promise<void> | undefined;
  let queued: R | undefined;
  const request = (reason: R): void => {
    if (signal.aborted) return;
    if (running) {
      queued = reason;
      return;
    }
    running = (async () => {
      try {
        await run(reason);
      } catch (e) {
        onError(reason, e);
      }
      running = undefined;
      const next = queued;
      queued = undefined;
      if (next !== undefined) request(next);
    })();
  };
  const idle = async () => {
    while (running) await running;
  };
  return { request, idle };
};
