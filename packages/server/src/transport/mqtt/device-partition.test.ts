import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { laneOf } from '../../app/ingest/device-lane.js';
import { partitionOf } from './device-partition.js';

const device = (deviceName: string, productKey = 'PK00000001') => ({ productKey, deviceName });
const sequential = (n: number) =>
  Array.from({ length: n }, (_, i) => device(`dev${String(i).padStart(6, '0')}`));

describe('partitionOf', () => {
  it('gives every device to the only instance', () => {
    expect(partitionOf(device('a'), 1)).toBe(0);
    expect(partitionOf(device('a'), 0)).toBe(0);
  });

  it('is an index among the instances, the same on every call', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 1, max: 64 }), (pk, dn, size) => {
        const index = partitionOf({ productKey: pk, deviceName: dn }, size);
        expect(index).toBeGreaterThanOrEqual(0);
        expect(index).toBeLessThan(size);
        expect(Number.isInteger(index)).toBe(true);
        expect(partitionOf({ productKey: pk, deviceName: dn }, size)).toBe(index);
      }),
    );
  });

  // Instances of different Aloft versions must agree during a rolling upgrade: a change here is a breaking change.
  it('keeps the values instances already agree on', () => {
    const pinned: [string, string, number[]][] = [
      ['ABCDEFGHIJ', 'dev-1', [1, 0, 3, 0]],
      ['ABCDEFGHIJ', 'dev-2', [0, 1, 2, 1]],
      ['a1b2c3d4e5f', 'lamp-0001', [0, 1, 4, 4]],
      ['PK12345678', '设备一', [1, 2, 2, 4]],
    ];
    for (const [pk, dn, expected] of pinned) {
      expect(
        [2, 3, 5, 7].map((n) => partitionOf(device(dn, pk), n)),
        `${pk}/${dn}`,
      ).toEqual(expected);
    }
  });

  it('spreads sequential device names evenly', () => {
    for (const size of [2, 3, 4, 7]) {
      const counts = new Array<number>(size).fill(0);
      for (const d of sequential(30_000)) counts[partitionOf(d, size)]! += 1;
      const fair = 30_000 / size;
      for (const n of counts)
        expect(Math.abs(n - fair) / fair, `${size} instances: ${counts}`).toBeLessThan(0.05);
    }
  });

  it('does not put all of an instance’s devices into one ingest lane', () => {
    // Same count of instances and lanes: a partition that were the lane hash would send all to lane `index`.
    const lanes = new Array<number>(3).fill(0);
    for (const d of sequential(30_000)) if (partitionOf(d, 3) === 0) lanes[laneOf(d, 3)]! += 1;
    const total = lanes.reduce((a, b) => a + b, 0);
    for (const n of lanes) expect(n / total, String(lanes)).toBeGreaterThan(0.3);
  });

  it('tells apart devices of the same name in different products', () => {
    const owners = new Set(
      Array.from({ length: 50 }, (_, i) =>
        partitionOf(device('dev-1', `PK${String(i).padStart(8, '0')}`), 4),
      ),
    );
    expect(owners.size).toBe(4);
  });
});
