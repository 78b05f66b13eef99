/**
 * Removes credentials from a URL (mqtt://user:pass@host, http://user:pass@influx) so it can be logged or shown.
 *
 * @example
 * redactUrl('mqtt://det:s3cret@broker:1883') // 'mqtt://***@broker:1883'
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
  } catch {
    return '(unparseable url)';
  }
}
