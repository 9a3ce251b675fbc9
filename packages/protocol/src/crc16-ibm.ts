/**
 * CRC-16/IBM (a.k.a. CRC-16/ARC): polynomial 0x8005 reflected (0xA001), init 0, no final XOR.
 * This is LinkSDK's `crc_ibm()` in `aiot_mqtt_download_api.c`, which checks every MQTT download block.
 * Check value: crc16Ibm("123456789") === 0xBB3D.
 */
export function crc16Ibm(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc = ((crc >>> 8) ^ (TABLE[(crc ^ byte) & 0xff] as number)) & 0xffff;
  }
  return crc;
}

const TABLE: readonly number[] = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  return c;
});
