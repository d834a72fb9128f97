/**
 * Capped exponential backoff with full jitter: attempt n (0-based) waits a
 * uniformly random time in [0, min(maxMs, baseMs * 2^n)]. Full jitter spreads
 * a crowd of clients that lost the same server apart, so they do not all
 * come back in the same instant.
 */
export interface BackoffOptions {
    /** The cap of the first attempt's delay (default 500 ms). */
    baseMs?: number;
    /** The cap of every delay (default 30 s). */
    maxMs?: number;
}
export declare function backoffDelay(attempt: number, opts?: BackoffOptions, random?: () => number): number;
