/** Fractions of the fleet (0..1) that get each injected fault. */
export interface FaultFractions {
  /** Every download attempt is cut off half-way, so the update ends `download_failed` once retries run out. */
  failDownload?: number;
  /** A byte of every response is flipped, so the package fails its digest check (`verify_failed`). */
  failVerify?: number;
  /** The installer throws after its delay (`install_failed`). */
  failInstall?: number;
  /** The HTTP connection is cut once, part-way through the download; the device must resume with a Range request. */
  drop?: number;
  /**
   * The device loses power once, part-way through a download: MQTT and HTTP go away, it stays off for the
   * offline time, then starts again from its data directory (reports its old version, gets the task re-pushed,
   * resumes from its checkpoint). A device that never downloads never goes offline.
   */
  offline?: number;
}

/** How an update of this device is meant to fail, if at all. */
export type PlannedFailure = 'download' | 'verify' | 'install';

/** The faults one device was dealt. Byte positions are fractions of the package size. */
export interface DeviceFaults {
  fail?: PlannedFailure;
  /** Where in the package (0..1) the one connection drop happens. */
  dropAt?: number;
  /** Where in the package (0..1) the device goes offline. */
  offlineAt?: number;
}

/** How many devices got each fault. */
export interface FaultCounts {
  failDownload: number;
  failVerify: number;
  failInstall: number;
  drop: number;
  offline: number;
}

/**
 * Deals faults to `count` devices: exactly `round(fraction × count)` devices get each one, chosen at random
 * (reproducibly for one `random`). The three failures exclude each other, so every failing device fails in
 * exactly the way it was dealt and a run's failures can be checked against the plan; drops and offline
 * episodes are dealt independently and combine with anything.
 */
export function planFaults(count: number, fractions: FaultFractions, random: () => number): DeviceFaults[] {
  const failures = {
    download: dealt(count, fractions.failDownload, 'failDownload'),
    verify: dealt(count, fractions.failVerify, 'failVerify'),
    install: dealt(count, fractions.failInstall, 'failInstall'),
  };
  if (failures.download + failures.verify + failures.install > count) {
    throw new RangeError('the failure fractions (download + verify + install) add up to more than 1');
  }
  const plan: DeviceFaults[] = Array.from({ length: count }, () => ({}));
  const order = shuffled(count, random);
  let next = 0;
  for (const kind of ['download', 'verify', 'install'] as const) {
    for (let i = 0; i < failures[kind]; i++) plan[order[next++] ?? 0]!.fail = kind;
  }
  for (const index of shuffled(count, random).slice(0, dealt(count, fractions.drop, 'drop'))) {
    plan[index]!.dropAt = somewhereInTheMiddle(random);
  }
  for (const index of shuffled(count, random).slice(0, dealt(count, fractions.offline, 'offline'))) {
    plan[index]!.offlineAt = somewhereInTheMiddle(random);
  }
  return plan;
}

/** Counts the faults of a plan. */
export function countFaults(plan: readonly DeviceFaults[]): FaultCounts {
  const counts: FaultCounts = { failDownload: 0, failVerify: 0, failInstall: 0, drop: 0, offline: 0 };
  for (const faults of plan) {
    if (faults.fail === 'download') counts.failDownload++;
    if (faults.fail === 'verify') counts.failVerify++;
    if (faults.fail === 'install') counts.failInstall++;
    if (faults.dropAt !== undefined) counts.drop++;
    if (faults.offlineAt !== undefined) counts.offline++;
  }
  return counts;
}

/** A small seeded PRNG (mulberry32): the same seed deals the same faults. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function dealt(count: number, fraction: number | undefined, name: string): number {
  if (fraction === undefined) return 0;
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`${name} must be a fraction from 0 to 1`);
  return Math.round(fraction * count);
}

/** Not at the very start or end, where a drop would be no test of resuming. */
function somewhereInTheMiddle(random: () => number): number {
  return 0.1 + random() * 0.8;
}

function shuffled(count: number, random: () => number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}
