/** Exponential backoff settings; every loop that talks to an RPC or Redis uses these instead of a fixed sleep. */
export interface BackoffOptions {
  /** First delay in ms. */
  baseMs?: number;
  /** Ceiling in ms: an outage of any length never makes the daemon wait longer than this between tries. */
  maxMs?: number;
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (0-based): exponential, capped, with "equal jitter" (half fixed, half
 * random) so that many daemons recovering from the same RPC outage do not retry in lockstep (an RPC storm).
 */
export function backoffDelayMs(attempt: number, { baseMs = 250, maxMs = 30_000, random = Math.random }: BackoffOptions = {}): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(capped / 2 + random() * (capped / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export interface RetryOptions extends BackoffOptions {
  /** Total tries including the first. */
  attempts: number;
  /** Errors for which this returns false are thrown at once (bad input is never retried). */
  isRetryable?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

/** Runs `fn` until it succeeds, a non-retryable error occurs, or `attempts` are used up (then the last error). */
export async function retryWithBackoff<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const retryable = options.isRetryable?.(error) ?? true;
      if (!retryable || attempt + 1 >= options.attempts || options.signal?.aborted) throw error;
      const delay = backoffDelayMs(attempt, options);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}
