/** One HTTP POST of a webhook delivery. */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** The status of the answer, or why there was none (refused, timed out, bad TLS…). */
export type WebhookResponse = { status: number } | { error: string };

/** Sends webhook requests. Never throws: a failure to connect is a response too. */
export interface WebhookSender {
  send(request: WebhookRequest): Promise<WebhookResponse>;
}
