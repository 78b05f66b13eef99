import { describe, expect, it } from 'vitest';
import type { Health, StationView } from '@linewatch/protocol';
import { kioskStation, neediestStation } from './kiosk.js';
import { readSettings } from './page-settings.js';

const NOW = 1_800_000_000_000;
const view = (station: string, health: Health | null, ageMs = 1_000): StationView => ({
  meta: { line: 'fab1', station, type: 'etch', name: station, order: 0, sensors: [{ name: 'x', unit: 'W', min: 0, max: 1 }] },
  state: null,
  status: health ? { line: 'fab1', station, health, since: 0, ts: NOW - ageMs, score: 0.1, threshold: 1, modelVersion: 'm', contributors: [] } : null,
  lastSeen: health ? NOW - ageMs : null,
});

describe('kiosk', () => {
  it('cycles through the stations while all are OK, one per slot', () => {
    const views = [view('a', 'OK'), view('b', 'OK'), view('c', 'OK')];
    const shown = [0, 1, 2, 3].map((i) => kioskStation(views, 20_000 * (3_000 + i), 10_000, 20_000).station);
    expect(new Set(shown)).toEqual(new Set(['a', 'b', 'c']));
    expect(shown[0]).toBe(shown[3]);
    expect(kioskStation(views, 20_000 * 3_000 + 5_000, 10_000, 20_000)).toMatchObject({ pinned: false, nextInMs: 15_000 });
  });

  it('holds on the station that needs a person: ALARM before a stale one', () => {
    const views = [view('a', 'OK', 60_000), view('b', 'OK'), view('c', 'ALARM')];
    expect(kioskStation(views, NOW, 10_000, 20_000)).toMatchObject({ station: 'c', pinned: true });
    expect(neediestStation([view('a', 'OK', 60_000), view('b', 'OK')], NOW, 10_000)?.meta.station).toBe('a');
    expect(neediestStation([view('a', 'OK'), view('b', 'OK')], NOW, 10_000)).toBeNull();
  });

  it('holds on a station with an open alert though its snapshots look fine (a faulty wafer), after ALARM', () => {
    const views = [view('a', 'OK'), view('b', 'OK'), view('c', 'WARN')];
    expect(kioskStation(views, NOW, 10_000, 20_000, new Set(['b']))).toMatchObject({ station: 'b', pinned: true });
    expect(kioskStation([...views, view('d', 'ALARM')], NOW, 10_000, 20_000, new Set(['b'])).station).toBe('d');
  });
});

describe('page settings', () => {
  const storage = (items: Record<string, string>) => ({ getItem: (k: string) => items[k] ?? null });

  it('takes the URL over the stored choice, and the stored choice over the browser', () => {
    expect(readSettings('?theme=light&lang=ko&kiosk&cycle=30', storage({ 'linewatch.theme': 'dark' }), 'en-US')).toEqual({ theme: 'light', lang: 'ko', kiosk: true, cycleSeconds: 30 });
    expect(readSettings('', storage({ 'linewatch.theme': 'light', 'linewatch.lang': 'en' }), 'ko-KR')).toEqual({ theme: 'light', lang: 'en', kiosk: false, cycleSeconds: 20 });
    expect(readSettings('', storage({}), 'ko-KR').lang).toBe('ko');
  });

  it('ignores nonsense: an unknown theme or language, kiosk=0, a cycle under 5 s', () => {
    expect(readSettings('?theme=pink&lang=fr&kiosk=0&cycle=1', storage({}), 'en')).toEqual({ theme: 'dark', lang: 'en', kiosk: false, cycleSeconds: 20 });
  });
});
