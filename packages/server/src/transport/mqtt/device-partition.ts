import type { DeviceRef } from '@aloft/protocol';

/**
 * Which of `size` live instances (sorted by id) handles a device's messages on the topics every instance receives.
 *
 * Every instance must compute the same answer, including instances of different Aloft versions during a rolling
 * upgrade: this function is part of how instances cooperate; never change it.
 *
 * FNV-1a of `productKey/deviceName`, then MurmurHash3's finalizer. The ingest spreads devices over its lanes with
 * plain FNV-1a modulo the lane count (app/ingest/device-lane.ts); without the finalizer, 3 instances with 3 lanes
 * each would put every device an instance owns into the same lane.
 */
export function partitionOf(device: DeviceRef, size: number): number {
  if (size <= 1) return 0;
  const key = `${device.productKey}/${device.deviceName}`;
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), FNV_PRIME);
  return (fmix32(hash) >>> 0) % size;
}

/** MurmurHash3's 32-bit finalizer: every input bit affects every output bit. */
function fmix32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
