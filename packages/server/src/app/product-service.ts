import { generateKeyPairSync } from 'node:crypto';
import type { Dialect } from '@aloft/protocol';
import { AloftError, aloftError } from '../errors.js';
import type { Clock } from './clock.js';
import type { Product, ProductRepository } from './ports/product-repository.js';

export interface CreateProductInput {
  key: string;
  name: string;
  dialect: Dialect;
  /** Generate an ed25519 key pair; firmware of this product is then signed and devices verify it. */
  signing?: boolean;
}

/** Product keys appear in MQTT topics: keep them to characters that are safe in every dialect's topic. */
export const PRODUCT_KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export class ProductService {
  constructor(
    private readonly products: ProductRepository,
    private readonly clock: Clock,
  ) {}

  async create(input: CreateProductInput): Promise<Product> {
    if (!PRODUCT_KEY_PATTERN.test(input.key)) {
      throw new AloftError('VALIDATION', [`Product key "${input.key}" must be 1-64 letters, digits, _ or -`]);
    }
    let keys: { publicKey: string; privateKey: string } | undefined;
    if (input.signing) {
      keys = generateKeyPairSync('ed25519', {
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
    }
    return this.products.create(
      {
        key: input.key,
        name: input.name,
        dialect: input.dialect,
        signingPublicKey: keys?.publicKey ?? null,
        signingPrivateKey: keys?.privateKey ?? null,
      },
      this.clock(),
    );
  }

  list(): Promise<Product[]> {
    return this.products.list();
  }

  async get(key: string): Promise<Product> {
    const product = await this.products.get(key);
    if (!product) throw aloftError('PRODUCT_NOT_FOUND', key);
    return product;
  }
}
