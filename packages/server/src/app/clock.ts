/** Milliseconds since the epoch. Injected so tests and the engine can control time. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
