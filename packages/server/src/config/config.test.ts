import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, envName, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('gives working defaults with nothing set', () => {
    const config = loadConfig({ env: {} });
    expect(config).toMatchObject({
      httpPort: 8080,
      mqttPort: 1883,
      dataDir: './data',
      downloadUrlTtlSeconds: 1800,
    });
    expect(config.mqttUrl).toBeUndefined();
  });

  it('reads env vars and converts numbers', () => {
    const config = loadConfig({ env: { ALOFT_HTTP_PORT: '9000', ALOFT_MQTT_URL: 'mqtt://broker:1883' } });
    expect(config.httpPort).toBe(9000);
    expect(config.mqttUrl).toBe('mqtt://broker:1883');
  });

  it('lets env vars override the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aloft-config-'));
    const file = join(dir, 'aloft.json');
    writeFileSync(file, JSON.stringify({ httpPort: 7000, mqttPort: 2883 }));
    const config = loadConfig({ env: { ALOFT_CONFIG: file, ALOFT_MQTT_PORT: '3883' } });
    expect(config.httpPort).toBe(7000);
    expect(config.mqttPort).toBe(3883);
  });

  it('names every bad setting by the variable the user set', () => {
    let error: unknown;
    try {
      loadConfig({
        env: { ALOFT_HTTP_PORT: 'eighty', ALOFT_MQTT_URL: 'http://x', ALOFT_DOWNLOAD_URL_TTL_SECONDS: '5' },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('ALOFT_HTTP_PORT');
    expect(problems).toContain('ALOFT_MQTT_URL');
    expect(problems).toContain('ALOFT_DOWNLOAD_URL_TTL_SECONDS');
  });

  it('refuses unknown keys and unreadable files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aloft-config-'));
    const file = join(dir, 'aloft.json');
    writeFileSync(file, JSON.stringify({ httpProt: 1 }));
    expect(() => loadConfig({ env: {}, file })).toThrow(/httpProt: unknown setting/);
    expect(() => loadConfig({ env: {}, file: join(dir, 'missing.json') })).toThrow(/missing\.json/);
  });

  it('maps keys to env names', () => {
    expect(envName('downloadUrlTtlSeconds')).toBe('ALOFT_DOWNLOAD_URL_TTL_SECONDS');
  });
});
