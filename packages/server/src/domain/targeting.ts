import type { StagedGroup } from './strategy.js';
import { sameVersion } from './version.js';

/**
 * Which devices of a product a batch job targets. Every filter given must pass (they narrow each
 * other); within a list, any entry matches. `{}` targets every device of the product.
 */
export interface TargetSpec {
  /** Only these devices. */
  readonly deviceNames?: readonly string[] | undefined;
  /** Only devices whose module runs one of these versions. */
  readonly sourceVersions?: readonly string[] | undefined;
  /** Only devices carrying at least one of these tags. */
  readonly tags?: readonly string[] | undefined;
  /** Gray release: this share (0, 100] of the devices, chosen by a stable hash of (job, device). */
  readonly percent?: number | undefined;
}

/** The facts about one device that targeting looks at. */
export interface TargetCandidate {
  readonly id: string | number;
  readonly name: string;
  readonly tags: readonly string[];
  /** The version the device last reported for the job's module; absent when it never did. */
  readonly currentVersion?: string | undefined;
}

export type TargetDecision =
  | { readonly decision: 'include' }
  /** Matches the job but already runs the target version: nothing to do. */
  | { readonly decision: 'skip'; readonly reason: 'already_on_target' }
  | {
      readonly decision: 'exclude';
      readonly reason: 'not_listed' | 'other_version' | 'untagged' | 'outside_percent';
    };

/** Decides whether one device belongs to a job. Deterministic: a restarted engine decides the same. */
export function decideTarget(
  jobId: string | number,
  device: TargetCandidate,
  spec: TargetSpec,
  targetVersion: string,
): TargetDecision {
  const { deviceNames, sourceVersions, tags, percent } = spec;
  const version = device.currentVersion;
  if (deviceNames && !deviceNames.includes(device.name)) return { decision: 'exclude', reason: 'not_listed' };
  if (sourceVersions && (version === undefined || !sourceVersions.some((v) => sameVersion(v, version)))) {
    return { decision: 'exclude', reason: 'other_version' };
  }
  if (tags && !tags.some((tag) => device.tags.includes(tag)))
    return { decision: 'exclude', reason: 'untagged' };
  if (percent !== undefined && !inGrayRelease(jobId, device.id, percent)) {
    return { decision: 'exclude', reason: 'outside_percent' };
  }
  if (version !== undefined && sameVersion(version, targetVersion)) {
    return { decision: 'skip', reason: 'already_on_target' };
  }
  return { decision: 'include' };
}

/**
 * Whether a device falls inside a gray release of `percent`. Raising the percent of the same job only
 * adds devices: everyone selected at 10% is still selected at 20%.
 */
export function inGrayRelease(jobId: string | number, deviceId: string | number, percent: number): boolean {
  return rolloutBucket('select', jobId, deviceId) < percent;
}

/**
 * The staged group (index into `groups`) a device belongs to. `groups` are cumulative percents ending
 * at 100, as `validateStrategy` guarantees. Hashed independently of `inGrayRelease`, so a 20% gray
 * release split into groups [10, 50, 100] still spreads its devices over all three groups.
 */
export function groupOf(
  jobId: string | number,
  deviceId: string | number,
  groups: readonly StagedGroup[],
): number {
  const bucket = rolloutBucket('group', jobId, deviceId);
  const index = groups.findIndex((group) => bucket < group.percent);
  return index >= 0 ? index : Math.max(0, groups.length - 1);
}

export type TargetValidation =
  | { readonly ok: true; readonly spec: TargetSpec }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Rejects specs that would silently select nobody: empty lists, blank entries, a percent outside (0, 100]. */
export function validateTargetSpec(spec: TargetSpec): TargetValidation {
  const errors: string[] = [];
  for (const field of ['deviceNames', 'sourceVersions', 'tags'] as const) {
    const list = spec[field];
    if (list === undefined) continue;
    if (list.length === 0) errors.push(`${field} must not be empty (leave it out to not filter)`);
    if (list.some((entry) => typeof entry !== 'string' || entry.trim() === '')) {
      errors.push(`${field} must contain only non-blank strings`);
    }
  }
  const { percent } = spec;
  if (percent !== undefined && !(Number.isFinite(percent) && percent > 0 && percent <= 100)) {
    errors.push(`percent must be more than 0 and at most 100, got ${percent}`);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, spec };
}

/**
 * A number in [0, 100) fixed by (purpose, job, device). Persisted behaviour: changing this function
 * reshuffles the devices of running jobs, so tests pin its values.
 */
function rolloutBucket(purpose: string, jobId: string | number, deviceId: string | number): number {
  // NUL separators keep ("ab", "c") and ("a", "bc") apart.
  return (hash32(`${purpose}\u0000${jobId}\u0000${deviceId}`) / 2 ** 32) * 100;
}

/** FNV-1a over UTF-16 code units, then MurmurHash3's finalizer: FNV alone clusters similar names (dev-001, dev-002). */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
