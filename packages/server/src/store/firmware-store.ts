import type { Kysely, Selectable } from 'kysely';
import type {
  Firmware,
  FirmwareFilter,
  FirmwareRepository,
  NewFirmware,
  VerifyState,
} from '../app/ports/firmware-repository.js';
import { aloftError } from '../errors.js';
import { isUniqueViolation } from './constraint-errors.js';
import type { Database, FirmwareTable } from './schema.js';

function toFirmware(row: Selectable<FirmwareTable>): Firmware {
  return {
    id: Number(row.id),
    productKey: row.product_key,
    module: row.module,
    version: row.version,
    description: row.description,
    sourceVersions: JSON.parse(row.source_versions) as string[],
    fileName: row.file_name,
    size: Number(row.size),
    md5: row.md5,
    sha256: row.sha256,
    blobKey: row.blob_key,
    externalUrl: row.external_url,
    signature: row.signature,
    verifyState: row.verify_state as VerifyState,
    verifyDetail: row.verify_detail,
    createdAt: row.created_at,
  };
}

export class FirmwareStore implements FirmwareRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(firmware: NewFirmware, now: number): Promise<Firmware> {
    try {
      const row = await this.db
        .insertInto('firmware')
        .values({
          product_key: firmware.productKey,
          module: firmware.module,
          version: firmware.version,
          description: firmware.description,
          source_versions: JSON.stringify(firmware.sourceVersions),
          file_name: firmware.fileName,
          size: firmware.size,
          md5: firmware.md5,
          sha256: firmware.sha256,
          blob_key: firmware.blobKey,
          external_url: firmware.externalUrl,
          signature: firmware.signature,
          verify_state: 'unverified',
          verify_detail: null,
          created_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toFirmware(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw aloftError('FIRMWARE_EXISTS', firmware.version);
      throw error;
    }
  }

  async get(id: number): Promise<Firmware | undefined> {
    const row = await this.db.selectFrom('firmware').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toFirmware(row);
  }

  async find(productKey: string, module: string, version: string): Promise<Firmware | undefined> {
    const row = await this.db
      .selectFrom('firmware')
      .selectAll()
      .where('product_key', '=', productKey)
      .where('module', '=', module)
      .where('version', '=', version)
      .executeTakeFirst();
    return row && toFirmware(row);
  }

  async list(filter: FirmwareFilter): Promise<{ items: Firmware[]; total: number }> {
    let query = this.db.selectFrom('firmware');
    if (filter.productKey !== undefined) query = query.where('product_key', '=', filter.productKey);
    if (filter.module !== undefined) query = query.where('module', '=', filter.module);
    if (filter.verifyState !== undefined) query = query.where('verify_state', '=', filter.verifyState);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('id', 'desc').limit(filter.limit).offset(filter.offset).execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toFirmware), total: Number(count.n) };
  }

  async delete(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('firmware').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async setVerifyState(
    id: number,
    from: readonly VerifyState[],
    to: VerifyState,
    detail: string | null,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('firmware')
      .set({ verify_state: to, verify_detail: detail })
      .where('id', '=', id)
      .where('verify_state', 'in', [...from])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
