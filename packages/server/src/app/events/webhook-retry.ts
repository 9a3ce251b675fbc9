import type { DeliveryOutcome } from './webhook-repository.js';
import type { WebhookResponse } from './webhook-sender.js';

/** How failed deliveries are retried: exponential backoff from `baseMs`, capped at `maxMs`, `maxAttempts` in all. */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

/** 5 s, 10 s, 20 s … capped at 10 minutes; 8 attempts span about 10 minutes 35 seconds. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 5_000, maxMs: 600_000, maxAttempts: 8 };

/** The wait after the `attempt`-th failed attempt (1-based). */
export function retryDelayMs(attempt: number, policy: RetryPolicy): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 40);
  return Math.min(policy.baseMs * 2 ** exponent, policy.maxMs);
}

/** Decides what an attempt means: any 2xx delivers; anything else retries until the attempts run out. */
export function outcomeOf(
  response: WebhookResponse,
  attempts: number,
  now: number,
  policy: RetryPolicy,
): DeliveryOutcome {
  if ('status' in response && response.status >= 200 && response.status < 300) {
    return { state: 'delivered', status: response.status, at: now };
  }
  const status = 'status' in response ? response.status : null;
  const error = 'status' in response ? `HTTP ${response.status}` : response.error.slice(0, 500);
  if (attempts >= policy.maxAttempts) return { state: 'failed', status, error };
  return { state: 'pending', status, error, retryAt: now + retryDelayMs(attempts, policy) };
}
