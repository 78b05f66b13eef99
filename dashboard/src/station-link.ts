import type { StationSelection } from './line-store.js';

/**
 * The station view's place in the URL fragment, `#station=fab1%2Fetch-01`: the link a webhook payload carries
 * (`stationURL`), and what a bookmark or a shared link opens. Other fragment parts are kept as they are.
 *
 * @example
 * stationFromFragment('#station=fab1%2Fetch-01') // { line: 'fab1', station: 'etch-01' }
 * fragmentWithStation('x=1', { line: 'fab1', station: 'etch-01' }) // 'x=1&station=fab1%2Fetch-01'
 */
export function stationFromFragment(fragment: string): StationSelection | null {
  const part = fragment.replace(/^#/, '').split('&').find((p) => p.startsWith('station='));
  if (part === undefined) return null;
  let value: string;
  try {
    value = decodeURIComponent(part.slice('station='.length));
  } catch {
    return null;
  }
  const slash = value.indexOf('/');
  if (slash <= 0 || slash === value.length - 1) return null;
  return { line: value.slice(0, slash), station: value.slice(slash + 1) };
}

/** The fragment with the station part set to `selected`, or removed when null; without the leading `#`. */
export function fragmentWithStation(fragment: string, selected: StationSelection | null): string {
  const parts = fragment.replace(/^#/, '').split('&').filter((p) => p !== '' && !p.startsWith('station='));
  if (selected) parts.push(`station=${encodeURIComponent(`${selected.line}/${selected.station}`)}`);
  return parts.join('&');
}
