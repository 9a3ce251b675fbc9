import { type TSchema, Type } from 'typebox';
import { AloftError } from '../../../errors.js';

export const ErrorSchema = Type.Object(
  { code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) },
  { $id: 'Error' },
);

export const DialectSchema = Type.Union([
  Type.Literal('aliyun'),
  Type.Literal('tencent'),
  Type.Literal('iothub'),
]);

export const ProductSchema = Type.Object({
  key: Type.String(),
  name: Type.String(),
  dialect: DialectSchema,
  signingPublicKey: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer({ description: 'epoch ms' }),
});

export const DeviceSchema = Type.Object({
  id: Type.Integer(),
  productKey: Type.String(),
  name: Type.String(),
  tags: Type.Array(Type.String()),
  online: Type.Boolean(),
  lastSeenAt: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.Integer(),
  versions: Type.Record(Type.String(), Type.String(), { description: 'current version per module' }),
});

export const RegisteredDeviceSchema = Type.Intersect([
  DeviceSchema,
  Type.Object({ secret: Type.String({ description: 'shown once' }) }),
]);

export const DeviceDetailSchema = Type.Object({
  id: Type.Integer(),
  productKey: Type.String(),
  name: Type.String(),
  tags: Type.Array(Type.String()),
  online: Type.Boolean(),
  lastSeenAt: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.Integer(),
  versions: Type.Array(
    Type.Object({ module: Type.String(), version: Type.String(), reportedAt: Type.Integer() }),
  ),
});

export const DeviceInputSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    secret: Type.Optional(Type.String({ minLength: 8, maxLength: 128 })),
    tags: Type.Optional(Type.Array(Type.String(), { maxItems: 20 })),
  },
  { additionalProperties: false },
);

export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
};

export function page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), total: Type.Integer() });
}

/**
 * A page by position (`offset`) or after the last id of the page before (`after`, keyset): a deep page by offset
 * costs its depth, by `after` the same as the first.
 */
export const CursorPageQuery = {
  limit: PageQuery.limit,
  offset: Type.Optional(
    Type.Integer({ minimum: 0, description: 'rows to skip (default 0); not together with `after`' }),
  ),
  after: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        'the page of rows after this id, in id order: the `nextAfter` of the page before. As fast at any depth, and rows joining or leaving the list meanwhile neither repeat nor hide the others (with `offset` they shift the pages). Not together with `offset`',
    }),
  ),
};

/** A `page` with the cursor of the next one. */
export function cursorPage<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    total: Type.Integer(),
    nextAfter: Type.Union([Type.Integer(), Type.Null()], {
      description: 'pass as `after` for the next page; null on the last page',
    }),
  });
}

/** The page a `CursorPageQuery` asks for. */
export function cursorPageOf(query: {
  limit: number;
  offset?: number;
  after?: number;
}): { limit: number; offset: number } | { limit: number; after: number } {
  if (query.after === undefined) return { limit: query.limit, offset: query.offset ?? 0 };
  if (query.offset !== undefined) {
    throw new AloftError('VALIDATION', [
      'offset and after cannot be combined: pass after=<nextAfter of the page before> alone, or offset alone',
    ]);
  }
  return { limit: query.limit, after: query.after };
}

/** Error responses every authenticated route can give. */
export const errorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
};
