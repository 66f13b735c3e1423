/**
 * The one rule for showing a URI (camera sources, broker and database URLs) in logs, status, health,
 * metrics and error messages: the password of `scheme://user:password@host` is masked (the user too
 * when asked), and so are the values of secret-looking query and fragment parameters.
 *
 * It works on text, not on a parsed URL, so it never throws and never re-encodes what it keeps: a file
 * path, a GStreamer pipeline description or a malformed URI comes back with whatever credentials it can
 * recognise masked and everything else as it was.
 */

export interface RedactUrlOptions {
  /**
   * Drop the whole user info (`rtsp://admin:pw@host` → `rtsp://host`), for text that leaves the device
   * (the control plane sees no user names). Default: keep the user, mask the password (`admin:***@`).
   */
  readonly hideUser?: boolean;
}

/** What replaces a password. */
export const PASSWORD_MASK = '***';
/** What replaces the value of a secret-looking parameter. */
export const PARAMETER_MASK = 'redacted';

/**
 * Parameter names whose values are secrets: `token`, `key`, `password`, `secret`, `sig`, `signature`,
 * `auth`, `access_token`, every `X-Amz-*` signing parameter, and names containing pass, secret, token,
 * key, auth or cred (`api_key`, `passwd`, `credential`, …). Case-insensitive.
 */
const SECRET_PARAMETER = /pass|secret|token|key|auth|cred|^sig$|signature|^x-amz-/i;

// `scheme://userinfo@`: the user info runs to the last `@` before a path, query, fragment, space or `"`
// (URL serialisers always percent-encode a space or `"` there, so these end a URI quoted in other text).
const USER_INFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#"@]*(?:@[^\s/?#"@]*)*)@/gi;
// `?name=value`, `&name=value` or `#name=value` up to the next separator, space or `"`. A value also ends
// at `?`: text-based matching can mistake a path's `&x=` for a parameter, whose value must not swallow the
// real query behind it (`/&/=?token=…`). A `?` inside a real value only makes more text checked.
const PARAMETER = /([?&#])([^=&#?\s"]+)=([^&#?\s"]*)/g;

/** `text` with credentials masked; see the module comment for the rule. Never throws. */
export function redactUrl(text: string, options: RedactUrlOptions = {}): string {
  const hideUser = options.hideUser ?? false;
  return String(text)
    .replace(USER_INFO, (_all, scheme: string, userInfo: string) => `${scheme}${maskUserInfo(userInfo, hideUser)}`)
    .replace(PARAMETER, (all, separator: string, name: string) =>
      isSecretParameter(name) ? `${separator}${name}=${PARAMETER_MASK}` : all,
    );
}

/** Whether a query parameter of this name carries a secret (the name may be percent-encoded). */
export function isSecretParameter(name: string): boolean {
  return SECRET_PARAMETER.test(name) || SECRET_PARAMETER.test(decodeSafely(name));
}

function maskUserInfo(userInfo: string, hideUser: boolean): string {
  if (hideUser) return '';
  const colon = userInfo.indexOf(':');
  return colon < 0 ? `${userInfo}@` : `${userInfo.slice(0, colon)}:${PASSWORD_MASK}@`;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
