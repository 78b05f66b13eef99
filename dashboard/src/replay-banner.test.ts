import { describe, expect, it } from 'vitest';
import type { ReplayStatus, StationView } from '@linewatch/protocol';
import { initialState, type DashboardState } from './line-store.js';
import { replayBannerText } from './replay-banner.js';
import { inKorean } from './testing/in-korean.js';

function replayStatus(patch: Partial<ReplayStatus> & { fraction?: number | null; etaMs?: number | null }): ReplayStatus {
  const { fraction = 0.45, etaMs = 62_000, ...rest } = patch;
  return {
    state: 'playing',
    line: 'fab1-replay',
    run: {
      id: 'r1',
      recording: 'demo-fab1.jsonl.gz',
      speed: 10,
      loop: false,
      timestamps: 'shifted',
      startedAt: 0,
      endedAt: null,
      progress: { sent: 45, total: 100, acked: 45, errors: 0, pass: 0, etaMs, dataAt: null, fraction },
      result: null,
    },
    ...rest,
  };
}

function station(id: string, replay: boolean | undefined): StationView {
  return {
    meta: { line: 'fab1', station: id, type: 'etch', name: id, order: 0, sensors: [{ name: 'rf_power', unit: 'W', min: 0, max: 1 }] },
    state: null,
    status: { line: 'fab1', station: id, health: 'OK', since: 0, ts: 1, score: 0.1, threshold: 1, modelVersion: 'm', contributors: [], ...(replay === undefined ? {} : { replay }) },
    lastSeen: 1,
  };
}

const withReplay = (status: ReplayStatus | null, stations: StationView[] = []): DashboardState => {
  const s = initialState();
  return { ...s, line: 'fab1', stations, replay: { ...s.replay, status } };
};

describe('replay banner', () => {
  it('says which recording plays, how fast, how far, how long to go, and that it is not live', () => {
    expect(replayBannerText(withReplay(replayStatus({}))).replay).toBe(
      'REPLAY — demo-fab1.jsonl.gz at 10× · 45 % · ETA 1:02 — into line fab1-replay, not live data',
    );
  });

  it('covers starting, stopping and looping, and goes away when the replay has ended', () => {
    expect(replayBannerText(withReplay(replayStatus({ state: 'starting' }))).replay).toContain('starting…');
    expect(replayBannerText(withReplay(replayStatus({ state: 'stopping' }))).replay).toContain('stopping…');
    expect(replayBannerText(withReplay(replayStatus({ fraction: null }))).replay).toContain('pass 1 · looping');
    for (const state of ['completed', 'stopped', 'failed', 'idle'] as const) expect(replayBannerText(withReplay(replayStatus({ state }))).replay).toBeNull();
    expect(replayBannerText(withReplay(null))).toEqual({ replay: null, liveLine: null });
  });

  it('says so when the live line itself carries replayed data', () => {
    const text = replayBannerText(withReplay(null, [station('etch-01', true), station('cmp-01', false), station('load-01', undefined)]));
    expect(text.liveLine).toBe('REPLAYED DATA ON THE LIVE LINE fab1 — etch-01 shows replayed readings, not live data');
    expect(text.replay).toBeNull();
  });
});


describe('replay banner in Korean', () => {
  it('says the same facts in Korean, keeping the recording, speed and line names', () => {
    expect(inKorean(() => replayBannerText(withReplay(replayStatus({}))).replay)).toBe(
      '재생 — demo-fab1.jsonl.gz (10×) · 45 % · 남은 시간 1:02 — 라인 fab1-replay(으)로, 실시간 데이터 아님',
    );
    expect(inKorean(() => replayBannerText(withReplay(replayStatus({ fraction: null }))).replay)).toContain('1회차 · 반복 재생');
    const stations = ['a', 'b', 'c', 'd', 'e'].map((id) => station(id, true));
    expect(inKorean(() => replayBannerText(withReplay(null, stations)).liveLine)).toBe('실시간 라인 fab1에 재생 데이터 — a, b, c 외 2대: 재생된 측정값, 실시간 데이터 아님');
    expect(replayBannerText(withReplay(null, stations)).liveLine).toBe('REPLAYED DATA ON THE LIVE LINE fab1 — a, b, c and 2 more show replayed readings, not live data');
  });
});
