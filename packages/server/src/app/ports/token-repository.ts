export interface ApiToken {
  id: number;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface TokenRepository {
  count(): Promise<number>;
  create(name: string, tokenHash: string, now: number): Promise<ApiToken>;
  /** The token with this hash, touching its last-used time. */
  findByHash(tokenHash: string, now: number): Promise<ApiToken | undefined>;
  list(): Promise<ApiToken[]>;
  delete(id: number): Promise<boolean>;
}
