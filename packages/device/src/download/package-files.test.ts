import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileNamePart, packageFiles } from './package-files.js';

describe('packageFiles', () => {
  it('names the partial, checkpoint and verified files after module and version', () => {
    expect(packageFiles('/data', { module: 'MCU', version: '1.2.3-rc_1' })).toEqual({
      part: join('/data', 'MCU.part'),
      checkpoint: join('/data', 'MCU.checkpoint.json'),
      final: join('/data', 'MCU-1.2.3-rc_1.bin'),
    });
  });

  it('keeps names the server sends from leaving the data directory', () => {
    for (const hostile of ['../../etc/passwd', '..', '.', 'a\\..\\b', '/abs']) {
      const name = fileNamePart(hostile);
      expect(name).not.toMatch(/[/\\]/);
      expect(name.startsWith('.')).toBe(false);
    }
  });

  it('never maps two different names to the same file', () => {
    const names = ['a/b', 'a%2Fb', 'a_b', 'a b', 'é', 'e\u0301', '😀', '.x', '%2Ex'];
    expect(new Set(names.map(fileNamePart)).size).toBe(names.length);
  });
});
