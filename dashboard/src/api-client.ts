import type { AlertView, ApiErrorBody, StationHistory, RebaselineRequest, RebaselineResponse, RecordingInfo, ReplayRequest, ReplayStatus } from '@linewatch/protocol';

/** A REST call that did not succeed: the HTTP status (0 when the API did not answer) and the API's own message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** 401/403: the token is missing, wrong, or the API has none configured. */
  get isAuth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

async function call<T>(method: string, path: string, token?: string | null, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), ...(signal ? { signal } : {}) });
  } catch {
    throw new ApiError(0, 'network', 'the API did not answer; is linewatch running?');
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const error = (parsed as Partial<ApiErrorBody> | undefined)?.error;
    throw new ApiError(res.status, error?.code ?? 'http', error?.message ?? `the API answered ${res.status}`);
  }
  return parsed as T;
}

/** The API's replay endpoints, as the page uses them. */
export const replayApi = {
  recordings: () => call<RecordingInfo[]>('GET', '/api/recordings'),
  status: () => call<ReplayStatus>('GET', '/api/replay'),
  start: (token: string | null, request: ReplayRequest) => call<ReplayStatus>('POST', '/api/replay', token, request),
  stop: (token: string | null) => call<ReplayStatus>('DELETE', '/api/replay', token),
};

/** Who acknowledges and why; `by` is required, the comment may be empty (at most 1000 characters). */
export interface AckRequest {
  by: string;
  comment: string;
}

/** The API's alert endpoints, as the page uses them. The answer is the stored alert, a superset of the view. */
export const alertsApi = {
  acknowledge: (token: string | null, alertId: string, ack: AckRequest) =>
    call<AlertView>('POST', `/api/alerts/${encodeURIComponent(alertId)}/ack`, token, ack),
};

/** The API's station endpoints the page changes things with. */
export const stationsApi = {
  /** The station's next wafers become its wafer-level baseline; answers with the command sent to the detector. */
  rebaseline: (token: string | null, line: string, station: string, request: RebaselineRequest) =>
    call<RebaselineResponse>('POST', `/api/stations/${encodeURIComponent(station)}/baseline?line=${encodeURIComponent(line)}`, token, request),
};

/** The API's history of a station (live or replay line): readings, scores, states, anomalies and alert marks. */
export const historyApi = {
  station: (line: string, station: string, from: number, to: number, signal?: AbortSignal) =>
    call<StationHistory>('GET', `/api/stations/${encodeURIComponent(station)}/history?line=${encodeURIComponent(line)}&from=${Math.floor(from)}&to=${Math.ceil(to)}`, null, undefined, signal),
  /** Only the scores, in 1 s buckets (the highest of each, as the sparkline keeps them): a tile's sparkline after a reconnect. */
  scores: (line: string, station: string, from: number, to: number) =>
    call<StationHistory>('GET', `/api/stations/${encodeURIComponent(station)}/history?line=${encodeURIComponent(line)}&from=${Math.floor(from)}&to=${Math.ceil(to)}&bucket=1s&only=scores`).then((h) => h.scores),
};
