import type { Dialect } from '@aloft/protocol';
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import type {
  CandidateQuery,
  DeviceCredentialsRecord,
  DeviceDetail,
  DeviceFilter,
  DeviceRepository,
  DeviceSummary,
  NewDevice,
  ResolvedDevice,
  TargetCandidateRow,
  VersionCount,
} from '../app/ports/device-repository.js';
import { aloftError } from '../errors.js';
import { chunked, isUniqueViolation } from './constraint-errors.js';
import type { StoreDialect } from './database.js';
import { jsonRows } from './json-rows.js';
import type { Database } from './schema.js';
import { countMoves } from './upgrade-counts.js';

type DeviceRow = {
  id: number;
  product_key: string;
  name: string;
  online: number;
  last_seen_at: number | null;
  created_at: number;
};

const deviceColumns = ['id', 'product_key', 'name', 'online', 'last_seen_at', 'created_at'] as const;

export class DeviceStore implements DeviceRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
  ) {}

  async createMany(devices: NewDevice[], now: number): Promise<DeviceSummary[]> {
    if (devices.length === 0) return [];
    try {
      return await this.db.transaction().execute(async (trx) => {
        const created: DeviceSummary[] = [];
        for (const batch of chunked(devices, 500)) {
          const rows = await trx
            .insertInto('devices')
            .values(
              batch.map((d) => ({
                product_key: d.productKey,
                name: d.name,
                secret: d.secret,
                online: 0,
                last_seen_at: null,
                created_at: now,
              })),
            )
            .returning(deviceColumns)
            .execute();
          const tags = rows.flatMap((row, i) =>
            batch[i]!.tags.map((tag) => ({ device_id: Number(row.id), tag })),
          );
          for (const tagBatch of chunked(tags, 500))
            await trx.insertInto('device_tags').values(tagBatch).execute();
          rows.forEach((row, i) => {
            created.push(toSummary(row, batch[i]!.tags, {}));
          });
        }
        return created;
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        const existing = await this.firstExisting(devices);
        throw aloftError('DEVICE_EXISTS', existing ?? 'in this import');
      }
      throw error;
    }
  }

  private async firstExisting(devices: NewDevice[]): Promise<string | undefined> {
    const seen = new Set<string>();
    for (const d of devices) {
      const key = `${d.productKey}/${d.name}`;
      if (seen.has(key)) return key;
      seen.add(key);
    }
    for (const batch of chunked(devices, 500)) {
      const row = await this.db
        .selectFrom('devices')
        .select(['product_key', 'name'])
        .where((eb) => eb.or(batch.map((d) => eb.and({ product_key: d.productKey, name: d.name }))))
        .executeTakeFirst();
      if (row) return `${row.product_key}/${row.name}`;
    }
    return undefined;
  }

  async find(productKey: string, name: string): Promise<DeviceDetail | undefined> {
    const row = await this.db
      .selectFrom('devices')
      .select(deviceColumns)
      .where('product_key', '=', productKey)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) return undefined;
    const id = Number(row.id);
    const [versions, tags] = await Promise.all([
      this.db
        .selectFrom('device_versions')
        .select(['module', 'version', 'reported_at'])
        .where('device_id', '=', id)
        .orderBy('module')
        .execute(),
      this.db.selectFrom('device_tags').select('tag').where('device_id', '=', id).orderBy('tag').execute(),
    ]);
    const summary = toSummary(
      row,
      tags.map((t) => t.tag),
      {},
    );
    return {
      ...summary,
      versions: versions.map((v) => ({ module: v.module, version: v.version, reportedAt: v.reported_at })),
    };
  }

  async list(filter: DeviceFilter): Promise<{ items: DeviceSummary[]; total: number }> {
    const where = (eb: ExpressionBuilder<Database, 'devices'>) => {
      const conditions = [];
      if (filter.productKey !== undefined) conditions.push(eb('devices.product_key', '=', filter.productKey));
      if (filter.online !== undefined) conditions.push(eb('devices.online', '=', filter.online ? 1 : 0));
      if (filter.search) conditions.push(eb('devices.name', 'like', `%${escapeLike(filter.search)}%`));
      if (filter.tag !== undefined) {
        const tag = filter.tag;
        conditions.push(
          eb.exists(
            eb
              .selectFrom('device_tags')
              .select('device_tags.device_id')
              .whereRef('device_tags.device_id', '=', 'devices.id')
              .where('device_tags.tag', '=', tag),
          ),
        );
      }
      if (filter.version !== undefined) {
        const module = filter.module ?? 'default';
        const version = filter.version;
        conditions.push(
          eb.exists(
            eb
              .selectFrom('device_versions')
              .select('device_versions.device_id')
              .whereRef('device_versions.device_id', '=', 'devices.id')
              .where('device_versions.module', '=', module)
              .where('device_versions.version', '=', version),
          ),
        );
      }
      return eb.and(conditions);
    };
    const [rows, count] = await Promise.all([
      this.db
        .selectFrom('devices')
        .select(deviceColumns)
        .where(where)
        .orderBy('devices.id')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute(),
      this.db
        .selectFrom('devices')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where(where)
        .executeTakeFirstOrThrow(),
    ]);
    const ids = rows.map((r) => Number(r.id));
    const [tags, versions] = ids.length
      ? await Promise.all([
          this.db
            .selectFrom('device_tags')
            .select(['device_id', 'tag'])
            .where('device_id', 'in', ids)
            .execute(),
          this.db
            .selectFrom('device_versions')
            .select(['device_id', 'module', 'version'])
            .where('device_id', 'in', ids)
            .execute(),
        ])
      : [[], []];
    const tagsOf = new Map<number, string[]>();
    for (const t of tags)
      tagsOf.set(Number(t.device_id), [...(tagsOf.get(Number(t.device_id)) ?? []), t.tag]);
    const versionsOf = new Map<number, Record<string, string>>();
    for (const v of versions) {
      const map = versionsOf.get(Number(v.device_id)) ?? {};
      map[v.module] = v.version;
      versionsOf.set(Number(v.device_id), map);
    }
    return {
      items: rows.map((row) =>
        toSummary(row, (tagsOf.get(Number(row.id)) ?? []).sort(), versionsOf.get(Number(row.id)) ?? {}),
      ),
      total: Number(count.n),
    };
  }

  async setTags(productKey: string, name: string, tags: string[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('devices')
        .select('id')
        .where('product_key', '=', productKey)
        .where('name', '=', name)
        .executeTakeFirst();
      if (!row) return false;
      const id = Number(row.id);
      await trx.deleteFrom('device_tags').where('device_id', '=', id).execute();
      if (tags.length)
        await trx
          .insertInto('device_tags')
          .values(tags.map((tag) => ({ device_id: id, tag })))
          .execute();
      return true;
    });
  }

  async delete(productKey: string, name: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const device = await trx
        .selectFrom('devices')
        .select('id')
        .where('product_key', '=', productKey)
        .where('name', '=', name)
        .executeTakeFirst();
      if (!device) return false;
      // Its upgrades go with it: deleted here rather than by the cascade, so their jobs' counts lose them too.
      const upgrades = await trx
        .deleteFrom('upgrades')
        .where('device_id', '=', device.id)
        .returning(['job_id', 'state'])
        .execute();
      await trx.deleteFrom('devices').where('id', '=', device.id).execute();
      await countMoves(
        trx,
        upgrades.map((u) => ({ jobId: Number(u.job_id), from: u.state, to: null })),
      );
      return true;
    });
  }

  async credentials(productKey: string, name: string): Promise<DeviceCredentialsRecord | undefined> {
    const row = await this.db
      .selectFrom('devices')
      .innerJoin('products', 'products.key', 'devices.product_key')
      .select(['devices.id', 'devices.secret', 'products.dialect'])
      .where('devices.product_key', '=', productKey)
      .where('devices.name', '=', name)
      .executeTakeFirst();
    return row && { id: Number(row.id), secret: row.secret, dialect: row.dialect as Dialect };
  }

  async resolveMany(
    refs: readonly { productKey: string; deviceName: string }[],
  ): Promise<Map<string, ResolvedDevice>> {
    const resolved = new Map<string, ResolvedDevice>();
    // Each device once, however many of the batch's messages it sent.
    const wanted = new Map(refs.map((r) => [`${r.productKey}\u0000${r.deviceName}`, r]));
    if (!wanted.size) return resolved;
    // One statement of constant text joining the batch, as one JSON parameter, to the (product_key, name) unique
    // index: a nested loop on both databases, planned by PostgreSQL in ~0.15 ms (an OR of 300 pairs took it ~4 ms),
    // where the former per-product IN lists changed the text with every batch (a new prepared statement each time on
    // SQLite, a query-builder tree per batch on both).
    const lookups = jsonRows(
      this.dialect,
      [...wanted.values()].map((r) => ({ product_key: r.productKey, name: r.deviceName })),
      { product_key: 'text', name: 'text' },
      'wanted',
    );
    const { rows } = await sql<{ id: number; product_key: string; name: string; dialect: string }>`
      SELECT devices.id, devices.product_key, devices.name, products.dialect
      FROM ${lookups}
      JOIN devices ON devices.product_key = wanted.product_key AND devices.name = wanted.name
      JOIN products ON products.key = devices.product_key`.execute(this.db);
    for (const row of rows) {
      resolved.set(`${row.product_key}/${row.name}`, { id: Number(row.id), dialect: row.dialect as Dialect });
    }
    return resolved;
  }

  async targetCandidates(query: CandidateQuery): Promise<TargetCandidateRow[]> {
    let select = this.db
      .selectFrom('devices')
      .leftJoin('device_versions', (join) =>
        join
          .onRef('device_versions.device_id', '=', 'devices.id')
          .on('device_versions.module', '=', query.module),
      )
      .select(['devices.id', 'devices.name', 'device_versions.version', 'device_versions.reported_at'])
      .where('devices.product_key', '=', query.productKey)
      .where('devices.id', '>', query.afterId)
      .orderBy('devices.id')
      .limit(query.limit);
    if (query.names)
      select = select.where('devices.name', 'in', query.names.length ? [...query.names] : ['']);
    if (query.reportedAfter !== undefined)
      select = select.where('device_versions.reported_at', '>', query.reportedAfter);
    const rows = await select.execute();
    const ids = rows.map((r) => Number(r.id));
    const tags = new Map<number, string[]>();
    if (ids.length) {
      const tagRows = await this.db
        .selectFrom('device_tags')
        .select(['device_id', 'tag'])
        .where('device_id', 'in', ids)
        .execute();
      for (const t of tagRows)
        tags.set(Number(t.device_id), [...(tags.get(Number(t.device_id)) ?? []), t.tag]);
    }
    return rows.map((r) => ({
      id: Number(r.id),
      name: r.name,
      tags: tags.get(Number(r.id)) ?? [],
      version: r.version ?? undefined,
      reportedAt: r.reported_at ?? undefined,
    }));
  }

  async versionDistribution(productKey: string, module?: string): Promise<VersionCount[]> {
    let query = this.db
      .selectFrom('device_versions')
      .innerJoin('devices', 'devices.id', 'device_versions.device_id')
      .select((eb) => [
        'device_versions.module',
        'device_versions.version',
        eb.fn.countAll<number>().as('devices'),
      ])
      .where('devices.product_key', '=', productKey)
      .groupBy(['device_versions.module', 'device_versions.version']);
    if (module !== undefined) query = query.where('device_versions.module', '=', module);
    const rows = await query.execute();
    return rows.map((r) => ({ module: r.module, version: r.version, devices: Number(r.devices) }));
  }
}

function toSummary(row: DeviceRow, tags: string[], versions: Record<string, string>): DeviceSummary {
  return {
    id: Number(row.id),
    productKey: row.product_key,
    name: row.name,
    tags,
    online: row.online === 1,
    lastSeenAt: row.last_seen_at,
    createdAt: row.created_at,
    versions,
  };
}

function escapeLike(text: string): string {
  return text.replace(/[%_\\]/g, (c) => `\\${c}`);
}
