import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, outcomeOf, retryDelayMs } from './webhook-retry.js';

describe('webhook retries', () => {
  it('doubles the wait from 5 s and caps it at 10 minutes', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 60].map((n) => retryDelayMs(n, DEFAULT_RETRY_POLICY));
    expect(delays).toEqual([
      5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000, 600_000,
    ]);
  });

  it('counts any 2xx as delivered', () => {
    for (const status of [200, 201, 204, 299])
      expect(outcomeOf({ status }, 1, 100, DEFAULT_RETRY_POLICY)).toEqual({
        state: 'delivered',
        status,
        at: 100,
      });
  });

  it('retries a non-2xx answer or no answer after the backoff', () => {
    expect(outcomeOf({ status: 500 }, 2, 1000, DEFAULT_RETRY_POLICY)).toEqual({
      state: 'pending',
      status: 500,
      error: 'HTTP 500',
      retryAt: 11_000,
    });
    expect(outcomeOf({ status: 301 }, 1, 0, DEFAULT_RETRY_POLICY)).toMatchObject({ state: 'pending' });
    expect(outcomeOf({ error: 'ECONNREFUSED' }, 1, 0, DEFAULT_RETRY_POLICY)).toEqual({
      state: 'pending',
      status: null,
      error: 'ECONNREFUSED',
      retryAt: 5_000,
    });
  });

  it('fails for good once the attempts run out', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 };
    expect(outcomeOf({ status: 503 }, 2, 0, policy).state).toBe('pending');
    expect(outcomeOf({ status: 503 }, 3, 0, policy)).toEqual({
      state: 'failed',
      status: 503,
      error: 'HTTP 503',
    });
  });
});
