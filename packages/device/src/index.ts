/** @aloft/device: the device SDK. */
export * from './download/index.js';
