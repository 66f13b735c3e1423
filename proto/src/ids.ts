/**
 * Identifier rules shared by topics and messages. They match the edge agent's configuration schema
 * (`deviceId`, `cameras[].id`) and keep ids safe as single MQTT topic levels (no `/`, `+`, `#`, `$`).
 */

/** Device ids: letters, digits, `.`, `_`, `-`; 1..128 characters. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** Camera ids: letters, digits, `_`, `-`; 1..64 characters. */
export const CAMERA_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isDeviceId(value: unknown): value is string {
  return typeof value === 'string' && DEVICE_ID_PATTERN.test(value);
}

export function isCameraId(value: unknown): value is string {
  return typeof value === 'string' && CAMERA_ID_PATTERN.test(value);
}
