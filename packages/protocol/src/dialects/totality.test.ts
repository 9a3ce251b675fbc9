import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodeResult } from '../codec.js';
import { MAX_PAYLOAD_BYTES } from '../codec.js';
import { bytes } from '../testing/wire.js';
import { DIALECTS } from '../vocabulary.js';
import { isWireName } from '../wire-values.js';
import * as aliyunDoc from './fixtures/aliyun-doc.js';
import * as aliyunSdk from './fixtures/aliyun-sdk.js';
import * as iothubCourse from './fixtures/iothub-course.js';
import * as tencentDoc from './fixtures/tencent-doc.js';
import * as tencentSdk from './fixtures/tencent-sdk.js';
import { codecFor } from './index.js';

/** Every topic shape each dialect knows, device → server and server → device. */
const TOPICS = [
  '/ota/device/inform/pk/dn',
  '/ota/device/progress/pk/dn',
  '/ota/device/request/pk/dn',
  '/ota/device/upgrade/pk/dn',
  '/sys/pk/dn/thing/ota/firmware/get',
  '/sys/pk/dn/thing/ota/firmware/get_reply',
  '/sys/pk/dn/thing/file/download',
  '/sys/pk/dn/thing/file/download_reply',
  '$ota/report/ABCDEFGHIJ/dn',
  '$ota/update/ABCDEFGHIJ/dn',
  'update_ota_status/pn/dn/1',
  'update_status/pn/dn/1',
  'cmd/pn/dn/ota_upgrade/json/1/1700000000',
  'cmd/pn/dn/$ota_upgrade/json/1',
];

const FIXTURES = [aliyunDoc, aliyunSdk, iothubCourse, tencentDoc, tencentSdk].flatMap((module) =>
  Object.values(module).filter((value): value is string => typeof value === 'string'),
);

const topic = fc.oneof(fc.constantFrom(...TOPICS), fc.string({ maxLength: 60 }));
const dialect = fc.constantFrom(...DIALECTS);

/** A fixture with one of its values replaced by arbitrary JSON: wrong types, missing parts, odd numbers. */
const mutatedFixture = fc
  .tuple(
    fc.constantFrom(...FIXTURES.filter((text) => isJson(text))),
    fc.nat(),
    fc.oneof(fc.jsonValue(), fc.constant(undefined)),
  )
  .map(([text, pick, replacement]) => {
    const root = JSON.parse(text) as unknown;
    const slots = objectSlots(root);
    const slot = slots[pick % slots.length];
    if (slot) {
      if (replacement === undefined) delete slot.parent[slot.key];
      else slot.parent[slot.key] = replacement;
    }
    return JSON.stringify(root);
  });

describe('decoders are total', () => {
  it('never throw on random bytes, whatever the topic', () => {
    fc.assert(
      fc.property(dialect, topic, fc.uint8Array({ maxLength: 400 }), (name, t, payload) => {
        const codec = codecFor(name);
        expectWellFormed(codec.decode(t, payload));
        expect(typeof codec.decodeServer(t, payload).ok).toBe('boolean');
        codec.deviceOf(t);
      }),
    );
  });

  it('never throw on random JSON, whatever the topic', () => {
    fc.assert(
      fc.property(dialect, topic, fc.jsonValue(), (name, t, value) => {
        const codec = codecFor(name);
        const payload = bytes(JSON.stringify(value) ?? 'null');
        expectWellFormed(codec.decode(t, payload));
        expect(typeof codec.decodeServer(t, payload).ok).toBe('boolean');
      }),
    );
  });

  it('never throw on vendor payloads with a field removed or given a wrong type, and keep their invariants', () => {
    fc.assert(
      fc.property(mutatedFixture, (text) => {
        const payload = bytes(text);
        for (const name of DIALECTS) {
          for (const t of TOPICS) {
            expectWellFormed(codecFor(name).decode(t, payload));
            expect(typeof codecFor(name).decodeServer(t, payload).ok).toBe('boolean');
          }
        }
      }),
    );
  });

  it('refuse payloads above MAX_PAYLOAD_BYTES before parsing them', () => {
    const huge = bytes(`{"id":1,"params":{"version":"1","pad":"${'x'.repeat(MAX_PAYLOAD_BYTES)}"}}`);
    for (const name of DIALECTS) {
      for (const t of TOPICS) {
        const result = codecFor(name).decode(t, huge);
        if (codecFor(name).deviceOf(t)) expect(result).toMatchObject({ ok: false });
      }
    }
    expect(codecFor('aliyun').decode('/ota/device/inform/pk/dn', huge)).toMatchObject({ code: 'too_large' });
  });

  it('refuse invalid UTF-8 as malformed JSON', () => {
    const result = codecFor('tencent').decode(
      '$ota/report/ABCDEFGHIJ/dn',
      new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    );
    expect(result).toMatchObject({ ok: false, code: 'malformed_json' });
  });

  it('survive values that are not bytes at all', () => {
    const notBytes = 'text' as unknown as Uint8Array;
    for (const name of DIALECTS) {
      expect(codecFor(name).decode(TOPICS[0] as string, notBytes).ok).toBe(false);
      expect(codecFor(name).decodeServer(TOPICS[3] as string, notBytes).ok).toBe(false);
    }
  });
});

/** A decode result that holds to the vocabulary's promises. */
function expectWellFormed(result: DecodeResult): void {
  if (!result.ok) {
    expect(['unknown_topic', 'malformed_json', 'invalid_payload', 'too_large']).toContain(result.code);
    return;
  }
  for (const message of result.messages) {
    if (message.kind === 'version') {
      expect(isWireName(message.version) && isWireName(message.module)).toBe(true);
    }
    if (message.kind === 'progress') {
      if (message.percent !== undefined) {
        expect(Number.isInteger(message.percent) && message.percent >= 0 && message.percent <= 100).toBe(
          true,
        );
      }
      expect(message.phase === 'failed').toBe(message.error !== undefined);
      if (message.version !== undefined) expect(isWireName(message.version)).toBe(true);
    }
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

type Slot = { parent: Record<string, unknown>; key: string };

function objectSlots(value: unknown): Slot[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const parent = value as Record<string, unknown>;
  return Object.keys(parent).flatMap((key) => [{ parent, key }, ...objectSlots(parent[key])]);
}
