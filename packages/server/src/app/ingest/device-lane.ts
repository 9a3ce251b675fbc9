import type { DeviceRef } from '@aloft/protocol';

/**
 * The lane a device's messages are written in: the same one for every message of the device, so its messages and
 * presence changes stay in arrival order while other lanes write concurrently. FNV-1a of `productKey/deviceName`:
 * cheap, and spreads sequential names (`dev000001`, `dev000002`…) evenly.
 */
export function laneOf(device: DeviceRef, lanes: number): number {
  if (lanes <= 1) return 0;
  const key = `${device.productKey}/${device.deviceName}`;
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), FNV_PRIME);
  return (hash >>> 0) % lanes;
}

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
