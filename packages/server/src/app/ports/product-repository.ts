import type { Dialect } from '@aloft/protocol';

export interface Product {
  key: string;
  name: string;
  dialect: Dialect;
  /** PEM ed25519 public key when the product signs its firmware. */
  signingPublicKey: string | null;
  createdAt: number;
}

export interface NewProduct {
  key: string;
  name: string;
  dialect: Dialect;
  signingPublicKey: string | null;
  signingPrivateKey: string | null;
}

export interface ProductRepository {
  /** Throws PRODUCT_EXISTS when the key is taken. */
  create(product: NewProduct, now: number): Promise<Product>;
  get(key: string): Promise<Product | undefined>;
  list(): Promise<Product[]>;
  /** PEM private key, for signing firmware. Never returned through the API. */
  signingPrivateKey(key: string): Promise<string | undefined>;
}
