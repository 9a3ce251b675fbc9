/**
 * `@aloft/protocol`: the wire formats Aloft speaks with device fleets, and the one internal vocabulary they
 * are translated into. No I/O.
 */
export { grantSubscription, mayPublish, topicMatchesFilter } from './acl.js';
export * from './codec.js';
export { crc16Ibm } from './crc16-ibm.js';
export * from './credentials/index.js';
export * from './dialects/index.js';
export type { JsonObject, JsonValue } from './json-reader.js';
export * from './vocabulary.js';
export { isWireName, MAX_MESSAGE_LENGTH, MAX_NAME_LENGTH } from './wire-values.js';
