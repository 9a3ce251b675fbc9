import type {
  DeviceMessage,
  DeviceRef,
  Dialect,
  OutboundMessage,
  ProgressReport,
  TaskRequest,
  UpgradeTask,
  VersionReport,
} from './vocabulary.js';

/** Why a device message could not be understood. Decoders return this; they never throw. */
export interface DecodeError {
  ok: false;
  code: 'unknown_topic' | 'malformed_json' | 'invalid_payload' | 'too_large';
  /** Human-readable reason, safe to log. */
  reason: string;
}

/** A decoded device→server message. One MQTT message can carry several (IotHub status with many `<type>_ver`). */
export interface Decoded {
  ok: true;
  device: DeviceRef;
  messages: DeviceMessage[];
}

export type DecodeResult = Decoded | DecodeError;

/** A decoded server→device message, as the device SDK sees it. */
export type ServerMessage =
  | { kind: 'upgrade'; task: UpgradeTask }
  /** Answer to a task request; `task` absent means nothing pending. */
  | { kind: 'task_reply'; requestId: string | number; task?: UpgradeTask }
  /** Tencent's acknowledgement of a version report. */
  | { kind: 'version_ack'; version: string };

export type ServerDecodeResult = { ok: true; message: ServerMessage } | DecodeError;

/** Largest payload any decoder accepts; bigger ones are refused before parsing. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/**
 * One dialect, both directions. Server side: `inboundFilters`, `decode`, `encodeUpgrade`, `encodeTaskReply`,
 * `encodeVersionAck`. Device side (SDK): `deviceSubscriptions`, `encodeVersion`, `encodeProgress`,
 * `encodeTaskRequest`, `decodeServer`. `deviceTopics` is the ACL both sides agree on.
 */
export interface DialectCodec {
  readonly dialect: Dialect;

  /** Topic filters (wildcards) the server subscribes to for device→server traffic. */
  readonly inboundFilters: readonly string[];
  /** Which device a topic belongs to, or undefined when it is not one of this dialect's device topics. */
  deviceOf(topic: string): DeviceRef | undefined;
  /** Device→server message to internal vocabulary. Total: never throws. */
  decode(topic: string, payload: Uint8Array): DecodeResult;
  /** Push an upgrade task to a device. */
  encodeUpgrade(device: DeviceRef, task: UpgradeTask): OutboundMessage;
  /** Answer a task request (no task: the dialect's "nothing pending" form). */
  encodeTaskReply(device: DeviceRef, request: TaskRequest, task: UpgradeTask | undefined): OutboundMessage;
  /** Acknowledge a version report, for dialects that do (Tencent); undefined otherwise. */
  encodeVersionAck(device: DeviceRef, report: VersionReport): OutboundMessage | undefined;

  /** Topics (exact, or MQTT filters with +/#) a device may publish to and subscribe to: the ACL. */
  deviceTopics(device: DeviceRef): { publish: readonly string[]; subscribe: readonly string[] };
  /** Filters the device SDK subscribes to. */
  deviceSubscriptions(device: DeviceRef): readonly string[];
  encodeVersion(device: DeviceRef, report: VersionReport): OutboundMessage;
  encodeProgress(device: DeviceRef, report: ProgressReport): OutboundMessage;
  /** Undefined when the dialect has no way to ask (Tencent, IotHub: the server re-pushes on version report). */
  encodeTaskRequest(device: DeviceRef, request: TaskRequest): OutboundMessage | undefined;
  /** Server→device message to vocabulary. Total: never throws. */
  decodeServer(topic: string, payload: Uint8Array): ServerDecodeResult;
}
