/**
 * Aloft's pure domain rules: no I/O, no clocks (callers pass `now`), nothing but `@aloft/protocol` types.
 * The rollout engine, ingest and management API decide with these and persist the results themselves.
 */
export * from './job-state.js';
export * from './rollout-rules.js';
export * from './strategy.js';
export * from './targeting.js';
export * from './upgrade-state.js';
export * from './version.js';
