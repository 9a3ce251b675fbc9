import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from './clock.js';
import type { ApiToken, TokenRepository } from './ports/token-repository.js';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Bearer tokens for the management API. Only hashes are stored; a token is shown once when created. */
export class TokenService {
  constructor(
    private readonly tokens: TokenRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * On first start, creates the admin token (the configured one, or a random one) and returns it so it can be
   * printed once. Returns undefined when tokens exist already. A configured token is always (re)accepted.
   */
  async ensureAdminToken(configured?: string): Promise<string | undefined> {
    if (configured) {
      if (!(await this.tokens.findByHash(hashToken(configured), this.clock()))) {
        await this.tokens.create('admin (configured)', hashToken(configured), this.clock());
      }
      return undefined;
    }
    if ((await this.tokens.count()) > 0) return undefined;
    const token = `aloft_${randomBytes(24).toString('base64url')}`;
    await this.tokens.create('admin', hashToken(token), this.clock());
    return token;
  }

  /** Creates a named token and returns it (shown once). */
  async create(name: string): Promise<{ token: string; record: ApiToken }> {
    const token = `aloft_${randomBytes(24).toString('base64url')}`;
    return { token, record: await this.tokens.create(name, hashToken(token), this.clock()) };
  }

  async authenticate(token: string): Promise<ApiToken | undefined> {
    return this.tokens.findByHash(hashToken(token), this.clock());
  }
}
