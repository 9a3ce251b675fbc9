import { describe, expect, it } from 'vitest';
import type { OutputSink } from '../cli-io.js';
import { TransferProgress } from './transfer-progress.js';

const MiB = 1024 * 1024;

function sink(isTTY: boolean): OutputSink & { text: string } {
  return {
    isTTY,
    text: '',
    write(chunk) {
      this.text += String(chunk);
      return true;
    },
  };
}

describe('TransferProgress', () => {
  it('redraws one line in place on a terminal, at most ten times a second, and ends it with a summary', () => {
    const out = sink(true);
    let now = 0;
    const progress = new TransferProgress(out, 'uploading fw.bin', 4 * MiB, () => now);
    now = 1000;
    progress.add(MiB);
    now = 1050; // too soon to redraw
    progress.add(MiB);
    now = 2000;
    progress.add(MiB);
    progress.finish();
    const draws = out.text.split('\r\x1b[K').filter(Boolean);
    expect(draws).toEqual([
      `uploading fw.bin  [######..................]  25%  1.0 MiB / 4.0 MiB  1.0 MiB/s`,
      `uploading fw.bin  [##################......]  75%  3.0 MiB / 4.0 MiB  1.5 MiB/s`,
      'uploading fw.bin: 3.0 MiB in 2s (1.5 MiB/s)\n',
    ]);
  });

  it('in a log prints a line every few seconds and the summary, never carriage returns', () => {
    const out = sink(false);
    let now = 0;
    const progress = new TransferProgress(out, 'downloading', undefined, () => now);
    now = 1000;
    progress.add(MiB); // too soon for a log line
    now = 6000;
    progress.add(MiB);
    progress.finish();
    expect(out.text).toBe('downloading  2.0 MiB  341.3 KiB/s\ndownloading: 2.0 MiB in 6s (341.3 KiB/s)\n');
  });
});
