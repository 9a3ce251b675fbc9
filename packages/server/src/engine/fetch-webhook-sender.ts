import type { WebhookRequest, WebhookResponse, WebhookSender } from '../app/events/webhook-sender.js';

/** Sends webhooks with Node's fetch; no redirects are followed (a 3xx is an answer, and not a 2xx). */
export const fetchWebhookSender: WebhookSender = {
  async send(request: WebhookRequest): Promise<WebhookResponse> {
    try {
      const response = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(request.timeoutMs),
      });
      // The answer's body is not used; drop it so the connection can be reused.
      await response.body?.cancel().catch(() => undefined);
      return { status: response.status };
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      if ((error as Error).name === 'TimeoutError')
        return { error: `no answer within ${request.timeoutMs} ms` };
      return { error: cause?.code ?? cause?.message ?? (error as Error).message };
    }
  },
};
