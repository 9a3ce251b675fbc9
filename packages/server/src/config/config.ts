import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';

/** Everything Aloft can be configured with. Env var names are ALOFT_ + the key in SCREAMING_SNAKE_CASE. */
export const ConfigSchema = Type.Object(
  {
    httpHost: Type.String({ default: '0.0.0.0', description: 'Address the HTTP server listens on' }),
    httpPort: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    /** Base URL devices use to download firmware (through NAT, proxies, CDNs). Default: http://<host>:<port>. */
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    mqttHost: Type.String({ default: '0.0.0.0', description: 'Address the embedded broker listens on' }),
    mqttPort: Type.Integer({ minimum: 0, maximum: 65535, default: 1883 }),
    /** External broker (mqtt://, mqtts://, ws://); when set, no embedded broker is started. */
    mqttUrl: Type.Optional(Type.String({ pattern: '^(mqtts?|wss?|tcp|ssl)://' })),
    mqttUsername: Type.Optional(Type.String()),
    mqttPassword: Type.Optional(Type.String()),
    /** Share group name for `$share/<group>/...` subscriptions on an external broker. */
    mqttShareGroup: Type.String({ default: 'aloft', pattern: '^[A-Za-z0-9_-]+$' }),
    /**
     * Subscribe `$` topics (Tencent's `$ota/…`) shared too: only for brokers that deliver them to shared subscriptions
     * (EMQX; Mosquitto does not). Off: every instance receives them and handles its own devices' (docs/operations.md).
     */
    mqttShareDollarTopics: Type.Boolean({ default: false }),
    /** External broker: how often an instance records itself alive in the database; 3 missed = dead. */
    instanceHeartbeatMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 1000 }),
    dataDir: Type.String({ default: './data' }),
    /** `postgres://…` for PostgreSQL; otherwise a SQLite file path. Default: <dataDir>/aloft.db. */
    databaseUrl: Type.Optional(Type.String({ minLength: 1 })),
    databaseSchema: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]*$' })),
    downloadUrlTtlSeconds: Type.Integer({ minimum: 60, maximum: 7 * 24 * 3600, default: 1800 }),
    maxUploadBytes: Type.Integer({ minimum: 1, default: 4 * 1024 ** 3 }),
    /** A fixed admin token (automation, tests). Otherwise one is generated on first start and printed once. */
    adminToken: Type.Optional(Type.String({ minLength: 16 })),
    ingestBatchMs: Type.Integer({ minimum: 0, maximum: 1000, default: 5 }),
    ingestBatchMax: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
    /**
     * Ingest batches written at once, devices spread over this many lanes (each device's messages stay in order).
     * Default: 1 on SQLite (one connection, synchronous writes), 3 on PostgreSQL; each lane in flight holds one of
     * the pool's 10 connections, hence the maximum: the engine and the HTTP API keep at least half.
     */
    ingestConcurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    engineTickMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000 }),
    /** With an external broker there are no connect events: a device counts as online this long after its last message. */
    presenceTimeoutSeconds: Type.Integer({ minimum: 10, default: 300 }),
    /** Live events: how often an open SSE stream looks for new events, and how long it may stay silent. */
    eventPollMs: Type.Integer({ minimum: 10, maximum: 10_000, default: 250 }),
    eventHeartbeatMs: Type.Integer({ minimum: 100, maximum: 300_000, default: 15_000 }),
    /** Webhooks: dispatcher tick, per-request timeout, retry backoff (base doubling up to max) and attempts. */
    webhookTickMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000 }),
    webhookTimeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
    webhookRetryBaseMs: Type.Integer({ minimum: 1, default: 5000 }),
    webhookRetryMaxMs: Type.Integer({ minimum: 1, default: 600_000 }),
    webhookMaxAttempts: Type.Integer({ minimum: 1, maximum: 50, default: 8 }),
    logLevel: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: 'info' },
    ),
  },
  { additionalProperties: false },
);

export type AloftConfig = Static<typeof ConfigSchema>;

/** Config problems, each a line a person can act on. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const keys = Object.keys(ConfigSchema.properties) as (keyof AloftConfig)[];

/** `httpPort` → `ALOFT_HTTP_PORT`. */
export function envName(key: string): string {
  return `ALOFT_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/**
 * Builds the config from, in rising priority: defaults, a JSON file (`ALOFT_CONFIG` or `file`), env vars, overrides.
 * Throws ConfigError listing every problem with the name the user set it by.
 */
export function loadConfig(
  options: { env?: NodeJS.ProcessEnv; file?: string; overrides?: Partial<AloftConfig> } = {},
): AloftConfig {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const merged: Record<string, unknown> = {};
  const source: Record<string, string> = {};

  const file = options.file ?? env.ALOFT_CONFIG;
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(resolve(file), 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        problems.push(`config file ${file}: must hold a JSON object`);
      } else {
        for (const [k, v] of Object.entries(parsed)) {
          merged[k] = v;
          source[k] = `${file}: ${k}`;
        }
      }
    } catch (error) {
      problems.push(`config file ${file}: ${(error as Error).message}`);
    }
  }
  for (const key of keys) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') {
      merged[key] = value;
      source[key] = envName(key);
    }
  }
  for (const [k, v] of Object.entries(options.overrides ?? {})) {
    if (v !== undefined) {
      merged[k] = v;
      source[k] = k;
    }
  }

  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, merged));
  for (const error of Value.Errors(ConfigSchema, converted)) {
    const key = error.instancePath.split('/')[1];
    if (error.keyword === 'additionalProperties') {
      const extra = (error.params as { additionalProperties?: string[] }).additionalProperties ?? [];
      for (const name of extra)
        problems.push(`${source[name] ?? name}: unknown setting (known: ${keys.join(', ')})`);
    } else if (key && error.keyword !== 'boolean') {
      problems.push(`${source[key] ?? key}: ${error.message} (got ${JSON.stringify(merged[key])})`);
    }
  }
  if (problems.length) throw new ConfigError([...new Set(problems)]);
  return converted as AloftConfig;
}
