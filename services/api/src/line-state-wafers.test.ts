import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { WaferVerdict } from '@linewatch/protocol';
import type { WaferVerdictQuery } from '@linewatch/store';
import { loadApiConfig } from './app.js';
import { LineState } from './line-state.js';
import { ApiMetrics } from './metrics.js';
import { waferVerdict } from './testing/fixtures.js';

function lineState(recentWafers: number) {
  const config = loadApiConfig({ LINE: 'fab1', REPLAY_LINE: 'fab1-replay', RECENT_WAFERS: String(recentWafers), DASHBOARD_DIR: '/nonexistent' });
  const state = new LineState({ config, logger: pino({ level: 'silent' }), metrics: new ApiMetrics() });
  const announced: WaferVerdict[] = [];
  state.bus.on('wafer', (v) => announced.push(v));
  return { state, announced };
}

describe('LineState: recent wafer verdicts from the store', () => {
  it('loads the newest RECENT_WAFERS of each line into its ring, as history, not news', async () => {
    const { state, announced } = lineState(2);
    const stored = {
      live: [3, 2, 1].map((i) => waferVerdict('fab1', 'etch-01', `W${i}`, i * 60_000)),
      replay: [waferVerdict('fab1-replay', 'etch-01', 'R1', 60_000)],
    };
    const queries: WaferVerdictQuery[] = [];
    await state.loadRecentWafers({
      async waferVerdicts(q) {
        queries.push(q);
        // A store that ignores the limit must still not overfill the ring.
        return q.line === 'fab1' ? stored.live : stored.replay;
      },
    });
    expect(queries).toEqual([{ line: 'fab1', limit: 2 }, { line: 'fab1-replay', limit: 2 }]);
    expect(state.live.recentWafers('etch-01').map((v) => v.wafer)).toEqual(['W3', 'W2']);
    expect(state.replay.recentWafers('etch-01').map((v) => v.wafer)).toEqual(['R1']);
    expect(state.live.knows('etch-01')).toBe(true);
    expect(announced).toEqual([]);
  });

  it('starts with empty lists when the store does not answer', async () => {
    const { state } = lineState(5);
    await expect(state.loadRecentWafers({ waferVerdicts: () => Promise.reject(new Error('store down')) })).resolves.toBeUndefined();
    expect(state.live.recentWafers()).toEqual([]);
  });
});
