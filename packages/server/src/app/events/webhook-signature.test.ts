import { describe, expect, it } from 'vitest';
import { signWebhookBody, verifyWebhookSignature, webhookRequestHeaders } from './webhook-signature.js';

describe('webhook signatures', () => {
  it('matches GitHub’s published X-Hub-Signature-256 example', () => {
    // docs.github.com "Validating webhook deliveries": secret, payload and expected signature.
    expect(signWebhookBody("It's a Secret to Everybody", 'Hello, World!')).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  it('verifies the signature of the exact body and nothing else', () => {
    const body = '{"id":7,"type":"upgrade.state"}';
    const signature = signWebhookBody('s3cret', body);
    expect(verifyWebhookSignature('s3cret', body, signature)).toBe(true);
    expect(verifyWebhookSignature('s3cret', Buffer.from(body), signature)).toBe(true);
    expect(verifyWebhookSignature('s3cret', `${body} `, signature)).toBe(false);
    expect(verifyWebhookSignature('other', body, signature)).toBe(false);
    expect(verifyWebhookSignature('s3cret', body, signature.slice(0, -1))).toBe(false);
    expect(verifyWebhookSignature('s3cret', body, undefined)).toBe(false);
  });

  it('names the event, the delivery and the time of the attempt', () => {
    const headers = webhookRequestHeaders({
      id: 42,
      eventType: 'upgrade.state',
      body: '{}',
      secret: 'k',
      now: 1_700_000_000_999,
    });
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'x-aloft-event': 'upgrade.state',
      'x-aloft-delivery': '42',
      'x-aloft-timestamp': '1700000000',
      'x-aloft-signature': signWebhookBody('k', '{}'),
    });
  });
});
