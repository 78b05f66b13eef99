/**
 * One HTTP attempt at a webhook delivery, bounded in time and in what it reads back. It never throws: every way
 * an attempt can go wrong becomes an outcome the outbox records. Error texts are built here from status codes
 * and error codes only, never from messages that may echo a URL (with its credentials or token path) or a
 * header value back.
 */

export interface PostLimits {
  /** For the whole exchange: connect, send, response headers and the bounded read of the body. */
  timeoutMs: number;
  /** The response body is read up to this and the rest cut off; receivers owe us nothing but a status. */
  maxResponseBytes: number;
}

export interface PostOutcome {
  ok: boolean;
  status: number | null;
  error: string | null;
  /** Response body bytes read (and thrown away). */
  responseBytes: number;
  /** True when the body was cut at maxResponseBytes. */
  truncated: boolean;
}

function failure(error: string, status: number | null = null): PostOutcome {
  return { ok: false, status, error, responseBytes: 0, truncated: false };
}

/** An error code (ECONNREFUSED, UND_ERR_SOCKET, ...) from fetch's cause chain; codes never carry user data. */
function networkError(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return `network error ${code}`;
    e = e.cause;
  }
  return 'request failed (no connection, bad port or invalid request)';
}

function httpError(status: number): string {
  if (status >= 300 && status < 400) return `HTTP ${status}: redirect not followed`;
  return `HTTP ${status}`;
}

/** Reads and discards at most `max` bytes of the body, then cancels the stream so the rest is never buffered. */
async function drain(res: Response, max: number): Promise<{ bytes: number; truncated: boolean }> {
  if (!res.body) return { bytes: 0, truncated: false };
  const reader = res.body.getReader();
  let bytes = 0;
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return { bytes, truncated: false };
      bytes += chunk.value.byteLength;
      if (bytes >= max) {
        await reader.cancel();
        return { bytes, truncated: true };
      }
    }
  } catch {
    // Aborted by the timeout or reset mid-body: the status already decided the outcome.
    return { bytes, truncated: true };
  } finally {
    reader.releaseLock();
  }
}

/** POSTs `body` with `headers` to `url`: 2xx is delivered, anything else (3xx included) is a failed attempt. */
export async function postWebhook(url: string, headers: Record<string, string>, body: string, limits: PostLimits): Promise<PostOutcome> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return failure('invalid URL');
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return failure('URL is not http or https');
  if (target.username || target.password) return failure('URL carries credentials; use the custom header instead');
  let requestHeaders: Headers;
  try {
    requestHeaders = new Headers(headers);
  } catch {
    return failure('invalid header name or value (the custom header?)');
  }

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(target, { method: 'POST', headers: requestHeaders, body, redirect: 'manual', signal: controller.signal });
    } catch (err) {
      return failure(controller.signal.aborted ? `timed out after ${limits.timeoutMs} ms` : networkError(err));
    }
    // A 2xx is a yes even if its body then stalls or is huge: the receiver has taken the message.
    const read = await drain(res, limits.maxResponseBytes);
    const ok = res.status >= 200 && res.status < 300;
    return { ok, status: res.status, error: ok ? null : httpError(res.status), responseBytes: read.bytes, truncated: read.truncated };
  } finally {
    clearTimeout(timer);
  }
}
