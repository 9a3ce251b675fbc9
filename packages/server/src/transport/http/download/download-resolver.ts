import type { FirmwareRepository } from '../../../app/ports/firmware-repository.js';
import type { BlobStore } from '../../../blobs/blob-store.js';
import type { DownloadableFirmware } from './download-route.js';

/**
 * How long a resolved package is reused before the database and the blob store are asked again. Short on
 * purpose: it only has to span a burst of devices fetching the same package (a rollout wave), not save work
 * between bursts.
 */
export const DEFAULT_RESOLVE_CACHE_MS = 5_000;
/** Packages remembered at once; a fleet downloads a handful at a time, so this only bounds memory. */
const MAX_ENTRIES = 256;
/** Firmware ids are database ids; anything else is unknown without asking the database. */
const FIRMWARE_ID = /^\d{1,15}$/;

export interface DownloadResolverOptions {
  firmware: Pick<FirmwareRepository, 'get'>;
  blobs: BlobStore;
  /** Default {@link DEFAULT_RESOLVE_CACHE_MS}; 0 looks every request up (what the route did before). */
  cacheMs?: number;
  /** Monotonic milliseconds; injected by tests. */
  now?: () => number;
}

export type DownloadResolve = (firmwareId: string) => Promise<DownloadableFirmware | undefined>;

interface Entry {
  until: number;
  firmware: Promise<DownloadableFirmware | undefined>;
}

/**
 * The download route's `resolve`: firmware row + blob `stat`, remembered for a few seconds. Without it every
 * download of a small package paid a SQL query and a `stat` (docs/benchmarks.md, "Download").
 *
 * Why serving from the cache is safe:
 * - A firmware row never changes after it is created except for its verification state (not used here), and
 *   ids are never reused (AUTOINCREMENT / identity columns), so a remembered row can only be stale by deletion.
 * - Deleting a package removes its blob, and the route opens the blob for every GET: a vanished blob answers a
 *   JSON 404 before any byte is sent (`response-body.ts`). So a deleted package stops being served at once; only
 *   responses that open nothing (HEAD, a 416, an empty package) may still answer as before until the entry expires.
 * - Only packages that were found are remembered: a miss or a failed lookup is asked again next time.
 * - Concurrent requests for a package share one lookup, so a rollout wave does not start with a query per device.
 */
export function createDownloadResolver(options: DownloadResolverOptions): DownloadResolve {
  const cacheMs = options.cacheMs ?? DEFAULT_RESOLVE_CACHE_MS;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, Entry>();

  const forget = (firmwareId: string, entry: Entry) => {
    if (entries.get(firmwareId) === entry) entries.delete(firmwareId);
  };

  return (firmwareId) => {
    const time = now();
    const cached = entries.get(firmwareId);
    if (cached && time < cached.until) return cached.firmware;
    if (cached) entries.delete(firmwareId);

    const entry: Entry = { until: time + cacheMs, firmware: lookUp(firmwareId, options) };
    // Map iteration is insertion order: the first key is the oldest entry.
    if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
    entries.set(firmwareId, entry);
    entry.firmware.then(
      (firmware) => {
        if (!firmware) forget(firmwareId, entry);
      },
      () => forget(firmwareId, entry),
    );
    return entry.firmware;
  };
}

async function lookUp(
  firmwareId: string,
  { firmware: repository, blobs }: DownloadResolverOptions,
): Promise<DownloadableFirmware | undefined> {
  if (!FIRMWARE_ID.test(firmwareId)) return undefined;
  const firmware = await repository.get(Number(firmwareId));
  const key = firmware?.blobKey;
  // Externally hosted packages (no blob) are not served here; a missing blob gets a clean 404, not a cut-off 200.
  if (!firmware || !key || !firmware.sha256 || !(await blobs.stat(key))) return undefined;
  return {
    fileName: firmware.fileName,
    size: firmware.size,
    sha256: firmware.sha256,
    openRead: (range) => blobs.openRead(key, range),
    // Filesystem store: the route reads the file itself with reused 1 MiB buffers (3x less CPU per GiB).
    ...(blobs.localPath ? { localPath: blobs.localPath(key) } : {}),
  };
}
