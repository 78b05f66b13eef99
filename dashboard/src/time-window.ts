/** What the station view's charts show: the live tail, the last span up to now, or a fixed range. */
export type TimeWindow = { kind: 'live' } | { kind: 'last'; span: LastSpan } | { kind: 'custom'; from: number; to: number };
export type LastSpan = '15m' | '1h' | '24h';

export const LAST_SPANS: readonly LastSpan[] = ['15m', '1h', '24h'];
const SPAN_MS: Record<LastSpan, number> = { '15m': 15 * 60_000, '1h': 3_600_000, '24h': 86_400_000 };
/** The live charts scroll over this much: enough to see a drift start, few enough points to draw 4 times a second. */
export const LIVE_SPAN_MS = 5 * 60_000;
/** Longest custom range: the API's limit is 7 days, but a day at 2,000 points is already coarse. */
export const MAX_CUSTOM_MS = 7 * 86_400_000;

export const LIVE: TimeWindow = { kind: 'live' };

/** The window's range now, and whether it follows the clock (live data is appended to it). */
export function resolveWindow(w: TimeWindow, now: number): { from: number; to: number; follows: boolean } {
  switch (w.kind) {
    case 'live':
      return { from: now - LIVE_SPAN_MS, to: now, follows: true };
    case 'last':
      return { from: now - SPAN_MS[w.span], to: now, follows: false };
    case 'custom':
      return { from: w.from, to: w.to, follows: false };
  }
}

export function sameWindow(a: TimeWindow, b: TimeWindow): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'last' && b.kind === 'last') return a.span === b.span;
  if (a.kind === 'custom' && b.kind === 'custom') return a.from === b.from && a.to === b.to;
  return true;
}

/**
 * The window around an event at `at` (an alert's start): 10 minutes before it to 10 minutes after its end, or to
 * now while it lasts.
 */
export function windowAround(at: number, end: number | null, now: number): TimeWindow {
  const to = Math.min(now, (end ?? now) + 10 * 60_000);
  const from = Math.max(to - MAX_CUSTOM_MS, at - 10 * 60_000);
  return { kind: 'custom', from, to: Math.max(to, from + 60_000) };
}

const FRAGMENT_KEYS = ['range', 'from', 'to'];

/** The window a URL fragment names (`range=1h`, or `from=…&to=…` in epoch ms); live when it names none. */
export function windowFromFragment(fragment: string): TimeWindow {
  const params = new URLSearchParams(fragment.replace(/^#/, ''));
  const range = params.get('range');
  if (range !== null && (LAST_SPANS as readonly string[]).includes(range)) return { kind: 'last', span: range as LastSpan };
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  if (params.has('from') && params.has('to') && Number.isFinite(from) && Number.isFinite(to) && from >= 0 && to > from && to - from <= MAX_CUSTOM_MS)
    return { kind: 'custom', from, to };
  return LIVE;
}

/** The fragment with the window's part set (none for live); other parts kept. Without the leading `#`. */
export function fragmentWithWindow(fragment: string, w: TimeWindow): string {
  const parts = fragment
    .replace(/^#/, '')
    .split('&')
    .filter((p) => p !== '' && !FRAGMENT_KEYS.includes(p.split('=')[0] ?? ''));
  if (w.kind === 'last') parts.push(`range=${w.span}`);
  if (w.kind === 'custom') parts.push(`from=${w.from}`, `to=${w.to}`);
  return parts.join('&');
}
