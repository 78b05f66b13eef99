import { describe, expect, it } from 'vitest';
import { LIVE, LIVE_SPAN_MS, fragmentWithWindow, resolveWindow, sameWindow, windowAround, windowFromFragment } from './time-window.js';

const NOW = 1_764_400_000_000;

describe('time windows', () => {
  it('resolves live and last spans against now; a custom range stays put', () => {
    expect(resolveWindow(LIVE, NOW)).toEqual({ from: NOW - LIVE_SPAN_MS, to: NOW, follows: true });
    expect(resolveWindow({ kind: 'last', span: '1h' }, NOW)).toEqual({ from: NOW - 3_600_000, to: NOW, follows: false });
    expect(resolveWindow({ kind: 'custom', from: 5, to: 9 }, NOW)).toEqual({ from: 5, to: 9, follows: false });
  });

  it('round-trips through the URL fragment, keeping the other parts', () => {
    const custom = { kind: 'custom', from: NOW - 60_000, to: NOW } as const;
    const fragment = fragmentWithWindow('station=fab1%2Fetch-01&range=24h', custom);
    expect(fragment).toBe(`station=fab1%2Fetch-01&from=${NOW - 60_000}&to=${NOW}`);
    expect(windowFromFragment(`#${fragment}`)).toEqual(custom);
    expect(windowFromFragment(fragmentWithWindow(fragment, { kind: 'last', span: '15m' }))).toEqual({ kind: 'last', span: '15m' });
    expect(fragmentWithWindow(fragment, LIVE)).toBe('station=fab1%2Fetch-01');
  });

  it('reads a nonsense fragment as live', () => {
    for (const f of ['range=2y', 'from=9&to=3', 'from=x&to=y', `from=0&to=${30 * 86_400_000}`, '']) expect(windowFromFragment(f)).toEqual(LIVE);
  });

  it('frames an event with 10 minutes either side, up to now while it lasts', () => {
    const start = NOW - 3_600_000;
    expect(windowAround(start, start + 60_000, NOW)).toEqual({ kind: 'custom', from: start - 600_000, to: start + 660_000 });
    expect(windowAround(start, null, NOW)).toEqual({ kind: 'custom', from: start - 600_000, to: NOW });
  });

  it('compares windows by what they show', () => {
    expect(sameWindow({ kind: 'last', span: '1h' }, { kind: 'last', span: '1h' })).toBe(true);
    expect(sameWindow({ kind: 'last', span: '1h' }, { kind: 'last', span: '24h' })).toBe(false);
    expect(sameWindow(LIVE, { kind: 'custom', from: 1, to: 2 })).toBe(false);
  });
});
