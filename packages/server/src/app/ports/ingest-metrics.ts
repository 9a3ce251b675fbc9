/** What the ingest path reports about itself (Prometheus in production, nothing in unit tests). */
export interface IngestMetrics {
  messageIn(type: string): void;
  decodeError(dialect: string, code: string): void;
  refused(reason: string): void;
  batchWritten(size: number, seconds: number): void;
}

export const noIngestMetrics: IngestMetrics = {
  messageIn() {},
  decodeError() {},
  refused() {},
  batchWritten() {},
};
