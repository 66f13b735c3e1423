/** A connection URL safe to print and log: the password (if any) is replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    // Not parseable as a URL: show only the scheme, since anything after it may hold a secret.
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0];
    return scheme ? `${scheme}//[unparseable URL]` : '[unparseable URL]';
  }
}
