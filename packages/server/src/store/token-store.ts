import type { Kysely } from 'kysely';
import type { ApiToken, TokenRepository } from '../app/ports/token-repository.js';
import type { Database } from './schema.js';

const columns = ['id', 'name', 'created_at', 'last_used_at'] as const;

function toToken(row: {
  id: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}): ApiToken {
  return { id: Number(row.id), name: row.name, createdAt: row.created_at, lastUsedAt: row.last_used_at };
}

export class TokenStore implements TokenRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('api_tokens')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async create(name: string, tokenHash: string, now: number): Promise<ApiToken> {
    const row = await this.db
      .insertInto('api_tokens')
      .values({ name, token_hash: tokenHash, created_at: now, last_used_at: null })
      .returning(columns)
      .executeTakeFirstOrThrow();
    return toToken(row);
  }

  async findByHash(tokenHash: string, now: number): Promise<ApiToken | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .select(columns)
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    // Touch at most once a minute: every API call must not become a write.
    if (row.last_used_at === null || now - row.last_used_at > 60_000) {
      await this.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', row.id).execute();
    }
    return toToken(row);
  }

  async list(): Promise<ApiToken[]> {
    return (await this.db.selectFrom('api_tokens').select(columns).orderBy('id').execute()).map(toToken);
  }

  async delete(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('api_tokens').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
