import type { Dialect } from '@aloft/protocol';
import type { Kysely, Selectable } from 'kysely';
import type { NewProduct, Product, ProductRepository } from '../app/ports/product-repository.js';
import { aloftError } from '../errors.js';
import { isUniqueViolation } from './constraint-errors.js';
import type { Database, ProductTable } from './schema.js';

const columns = ['key', 'name', 'dialect', 'signing_public_key', 'created_at'] as const;

function toProduct(row: Pick<Selectable<ProductTable>, (typeof columns)[number]>): Product {
  return {
    key: row.key,
    name: row.name,
    dialect: row.dialect as Dialect,
    signingPublicKey: row.signing_public_key,
    createdAt: row.created_at,
  };
}

export class ProductStore implements ProductRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(product: NewProduct, now: number): Promise<Product> {
    const row = {
      key: product.key,
      name: product.name,
      dialect: product.dialect,
      signing_public_key: product.signingPublicKey,
      signing_private_key: product.signingPrivateKey,
      created_at: now,
    };
    try {
      await this.db.insertInto('products').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw aloftError('PRODUCT_EXISTS', product.key);
      throw error;
    }
    return toProduct(row);
  }

  async get(key: string): Promise<Product | undefined> {
    const row = await this.db
      .selectFrom('products')
      .select(columns)
      .where('key', '=', key)
      .executeTakeFirst();
    return row && toProduct(row);
  }

  async list(): Promise<Product[]> {
    const rows = await this.db.selectFrom('products').select(columns).orderBy('key').execute();
    return rows.map(toProduct);
  }

  async signingPrivateKey(key: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('products')
      .select('signing_private_key')
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.signing_private_key ?? undefined;
  }
}
