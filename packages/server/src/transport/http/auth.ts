import type { FastifyInstance } from 'fastify';
import type { TokenService } from '../../app/token-service.js';
import { AloftError } from '../../errors.js';

/** Requires `Authorization: Bearer <token>` on every route of the instance it is registered in. */
export function requireBearerToken(app: FastifyInstance, tokens: TokenService): void {
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match || !(await tokens.authenticate(match[1]!))) throw new AloftError('UNAUTHORIZED');
  });
}
