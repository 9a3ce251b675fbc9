import type { FastifyError, FastifyInstance } from 'fastify';
import { BlobStoreError } from '../../blobs/blob-errors.js';
import { AloftError, catalogue } from '../../errors.js';

/** The JSON body of every error response. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

/** The one place errors become responses: catalogue errors keep their status, validation → 400, the rest → 500. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AloftError | Error, request, reply) => {
    if (error instanceof AloftError) {
      const body: ErrorBody = { code: error.code, message: error.message };
      if (error.details !== undefined) body.details = error.details;
      return reply.status(error.status).send(body);
    }
    if (error instanceof BlobStoreError) {
      return reply.status(error.statusCode).send({ code: error.code, message: error.message });
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      return reply.status(400).send({ code: catalogue.VALIDATION.code, message: fastifyError.message });
    }
    if (fastifyError.statusCode && fastifyError.statusCode < 500) {
      const code =
        fastifyError.statusCode === 413 ? catalogue.PAYLOAD_TOO_LARGE.code : catalogue.VALIDATION.code;
      return reply.status(fastifyError.statusCode).send({ code, message: fastifyError.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ code: catalogue.INTERNAL.code, message: catalogue.INTERNAL.template });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ code: catalogue.NOT_FOUND.code, message: `Route ${request.method} ${request.url} not found` }),
  );
}
