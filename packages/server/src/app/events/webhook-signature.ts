import { createHmac, timingSafeEqual } from 'node:crypto';

/** Request headers of a webhook delivery (lower-case, as Node shows them to a receiver). */
export const WEBHOOK_HEADERS = {
  event: 'x-aloft-event',
  delivery: 'x-aloft-delivery',
  signature: 'x-aloft-signature',
  timestamp: 'x-aloft-timestamp',
} as const;

/** `sha256=<hex HMAC-SHA256(secret, body)>`, the scheme GitHub uses for `X-Hub-Signature-256`. */
export function signWebhookBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Whether `signature` is the body's signature under `secret`; compares in constant time. */
export function verifyWebhookSignature(
  secret: string,
  body: string | Buffer,
  signature: string | undefined,
): boolean {
  if (!signature) return false;
  const expected = Buffer.from(signWebhookBody(secret, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The headers of one delivery attempt. */
export function webhookRequestHeaders(delivery: {
  id: number;
  eventType: string;
  body: string;
  secret: string;
  now: number;
}): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Aloft-Webhook/1',
    [WEBHOOK_HEADERS.event]: delivery.eventType,
    [WEBHOOK_HEADERS.delivery]: String(delivery.id),
    [WEBHOOK_HEADERS.signature]: signWebhookBody(delivery.secret, delivery.body),
    [WEBHOOK_HEADERS.timestamp]: String(Math.floor(delivery.now / 1000)),
  };
}
