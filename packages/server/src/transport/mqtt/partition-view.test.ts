import { describe, expect, it } from 'vitest';
import { partitionOf } from './device-partition.js';
import { PartitionView } from './partition-view.js';

const timing = { graceMs: 2000, staleAfterMs: 2000 };
const devices = Array.from({ length: 200 }, (_, i) => ({ productKey: 'PK00000001', deviceName: `d${i}` }));
const owned = (view: PartitionView, now: number) => devices.filter((d) => view.owns(d, now));

describe('PartitionView', () => {
  it('handles every device before its first view', () => {
    const view = new PartitionView('b', timing);
    expect(owned(view, 0)).toHaveLength(devices.length);
    expect(view.state(0)).toEqual({ instances: 0, index: undefined, inGrace: false, stale: true });
  });

  it('handles every device when it is the only instance', () => {
    const view = new PartitionView('a', timing);
    view.observe(['a'], 0);
    expect(owned(view, 100)).toHaveLength(devices.length);
  });

  it('takes the devices whose hash lands on its index among the sorted ids', () => {
    const views = ['c', 'a', 'b'].map((id) => {
      const view = new PartitionView(id, timing);
      view.observe(['b', 'c', 'a'], 0);
      return view;
    });
    const [c, a, b] = views as [PartitionView, PartitionView, PartitionView];
    expect([a, b, c].map((v) => v.state(0).index)).toEqual([0, 1, 2]);
    for (const d of devices) {
      expect(views.filter((v) => v.owns(d, 100))).toHaveLength(1);
      expect(b.owns(d, 100)).toBe(partitionOf(d, 3) === 1);
    }
    // Every instance gets a share.
    for (const v of views) expect(owned(v, 100).length).toBeGreaterThan(40);
  });

  it('counts itself alive whatever the registry said', () => {
    const view = new PartitionView('b', timing);
    view.observe(['a'], 0);
    expect(view.instances).toEqual(['a', 'b']);
  });

  it('keeps the old assignment’s devices for the grace time after a change, then only the new ones', () => {
    const view = new PartitionView('a', timing);
    view.observe(['a'], 0);
    const changed = view.observe(['a', 'b'], 1000);
    expect(changed).toEqual({ instances: ['a', 'b'], index: 0 });
    expect(owned(view, 1000)).toHaveLength(devices.length);
    expect(owned(view, 2999)).toHaveLength(devices.length);
    expect(view.state(2999).inGrace).toBe(true);
    // Heartbeats go on: the same set is no change and does not extend the grace.
    expect(view.observe(['b', 'a'], 2000)).toBeUndefined();
    const mine = devices.filter((d) => partitionOf(d, 2) === 0);
    expect(owned(view, 3000)).toEqual(mine);
    expect(view.state(3000).inGrace).toBe(false);
  });

  it('keeps every assignment seen within the grace time when changes follow each other', () => {
    const view = new PartitionView('b', timing);
    view.observe(['a', 'b'], 0);
    view.observe(['a', 'b', 'c'], 1000);
    view.observe(['a', 'b', 'c', 'd'], 2000);
    const ownedUnder = (sizes: number[]) => devices.filter((d) => sizes.some((n) => partitionOf(d, n) === 1));
    expect(owned(view, 2500)).toEqual(ownedUnder([2, 3, 4]));
    expect(owned(view, 3500)).toEqual(ownedUnder([3, 4]));
    view.observe(['a', 'b', 'c', 'd'], 4000);
    expect(owned(view, 4500)).toEqual(ownedUnder([4]));
  });

  it('handles every device while its view is stale, and its share again once a heartbeat succeeds', () => {
    const view = new PartitionView('a', timing);
    view.observe(['a', 'b'], 0);
    const mine = devices.filter((d) => partitionOf(d, 2) === 0);
    expect(owned(view, 2000)).toEqual(mine);
    expect(owned(view, 2001)).toHaveLength(devices.length);
    expect(view.state(2001).stale).toBe(true);
    view.observe(['a', 'b'], 2500);
    expect(owned(view, 2600)).toEqual(mine);
  });

  it('keeps its last view, never stale, once frozen', () => {
    const view = new PartitionView('a', timing);
    view.observe(['a', 'b'], 0);
    view.freeze();
    expect(view.observe(['a'], 100)).toBeUndefined();
    const mine = devices.filter((d) => partitionOf(d, 2) === 0);
    expect(owned(view, 1_000_000)).toEqual(mine);
  });
});
