import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PendingReports } from './pending-reports.js';

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aloft-pending-'));
  path = join(dir, 'pending-reports.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PendingReports', () => {
  it('remembers reports across instances (a reboot), one per module', async () => {
    const before = new PendingReports(path);
    await before.add({ module: 'MCU', version: '2.0' });
    await before.add({ module: 'default', version: '1.1' });
    await before.add({ module: 'MCU', version: '2.1' });

    expect(await new PendingReports(path).load()).toEqual([
      { module: 'default', version: '1.1' },
      { module: 'MCU', version: '2.1' },
    ]);
  });

  it('forgets only reports whose version still matches, and deletes the file when empty', async () => {
    const reports = new PendingReports(path);
    await reports.add({ module: 'MCU', version: '2.1' });
    await reports.add({ module: 'default', version: '1.1' });

    await reports.remove([
      { module: 'MCU', version: '2.0' },
      { module: 'default', version: '1.1' },
    ]);
    expect(await reports.load()).toEqual([{ module: 'MCU', version: '2.1' }]);

    await reports.remove([{ module: 'MCU', version: '2.1' }]);
    expect(await reports.load()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('serializes concurrent writes', async () => {
    const reports = new PendingReports(path);
    await Promise.all(['a', 'b', 'c', 'd'].map((module) => reports.add({ module, version: '1' })));
    expect((await reports.load()).map((r) => r.module).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('treats a missing, torn or foreign file as nothing pending', async () => {
    const reports = new PendingReports(path);
    expect(await reports.load()).toEqual([]);
    await writeFile(path, '{"reports":[{"module":"MCU","vers');
    expect(await reports.load()).toEqual([]);
    await writeFile(path, '{"reports":[{"module":"MCU"},{"module":"x","version":"1"},7]}');
    expect(await reports.load()).toEqual([{ module: 'x', version: '1' }]);
  });
});
