import type { DataQualityEvent, WaferVerdict } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { TypedBus, type LineEvents } from './line-events.js';
import { LinePicture } from './line-picture.js';

function verdict(station: string, wafer: string, end: number, over: Partial<WaferVerdict> = {}): WaferVerdict {
  return {
    id: `fab1/${station}/${wafer}/main_etch/${end - 60}`, line: 'fab1', station, wafer, step: 'main_etch', start: end - 60, end, samples: 60,
    verdict: 'ok', score: 0.3, threshold: 1, t2: 1, spe: 0.1, modelVersion: 'w@1', baseline: 'b1', contributors: [], ...over,
  };
}

function picture(waferLimit = 500) {
  const announced: WaferVerdict[] = [];
  const quality: DataQualityEvent[] = [];
  const bus = new TypedBus<LineEvents>((_event, err) => {
    throw err;
  });
  bus.on('wafer', (v) => announced.push(v));
  bus.on('quality', (e) => quality.push(e));
  const p = new LinePicture('fab1', 10, bus, waferLimit);
  const send = (kind: 'wafer' | 'quality', station: string, body: unknown) => p.apply(kind, station, Buffer.from(JSON.stringify(body)));
  return { p, announced, quality, send };
}

describe('LinePicture: wafer verdicts', () => {
  it('keeps them newest first by the end of the step, and announces each once though MQTT delivers it twice', () => {
    const { p, announced, send } = picture();
    const [a, b, c] = [verdict('etch-01', 'W1', 1_000), verdict('etch-01', 'W3', 3_000), verdict('dep-01', 'W2', 2_000)];
    for (const v of [a, b, a, c, b]) expect(send('wafer', v.station, v)).toBeUndefined();
    expect(announced.map((v) => v.wafer)).toEqual(['W1', 'W3', 'W2']);
    expect(p.recentWafers().map((v) => v.wafer)).toEqual(['W3', 'W2', 'W1']);
    expect(p.recentWafers('etch-01').map((v) => v.wafer)).toEqual(['W3', 'W1']);
    expect(p.recentWafers('etch-01', 1).map((v) => v.wafer)).toEqual(['W3']);
    expect(p.knows('dep-01')).toBe(true);
    expect(p.knows('cmp-01')).toBe(false);
  });

  it('stays bounded, and a late redelivery of a verdict older than all it keeps is not news again', () => {
    const { p, announced, send } = picture(3);
    for (let i = 1; i <= 5; i++) send('wafer', 'etch-01', verdict('etch-01', `W${i}`, i * 1_000));
    expect(p.recentWafers().map((v) => v.wafer)).toEqual(['W5', 'W4', 'W3']);
    send('wafer', 'etch-01', verdict('etch-01', 'W1', 1_000));
    expect(announced).toHaveLength(5);
    expect(p.recentWafers()).toHaveLength(3);
    // A verdict that fell out and comes again newer than the oldest kept is taken back in.
    send('wafer', 'etch-01', verdict('etch-01', 'W6', 6_000));
    expect(p.recentWafers().map((v) => v.wafer)).toEqual(['W6', 'W5', 'W4']);
  });

  it('gives a snapshot at most N per station, and forgets them all when the line is cleared', () => {
    const { p, send } = picture();
    for (let i = 1; i <= 4; i++) send('wafer', 'etch-01', verdict('etch-01', `E${i}`, i * 1_000));
    send('wafer', 'dep-01', verdict('dep-01', 'D1', 500));
    expect(p.snapshotWafers(2).map((v) => v.wafer)).toEqual(['E4', 'E3', 'D1']);
    p.clear();
    expect(p.recentWafers()).toEqual([]);
    // Cleared ids are forgotten too: the same verdict in a new replay is news.
    expect(send('wafer', 'etch-01', verdict('etch-01', 'E4', 4_000))).toBeUndefined();
    expect(p.recentWafers()).toHaveLength(1);
  });

  it('rejects a verdict that fails the schema or names another station than its topic', () => {
    const { announced, send } = picture();
    expect(send('wafer', 'etch-01', { ...verdict('etch-01', 'W1', 1_000), verdict: 'maybe' })).toMatch(/verdict/);
    expect(send('wafer', 'dep-01', verdict('etch-01', 'W1', 1_000))).toBe('line/station differ from the topic');
    expect(announced).toEqual([]);
  });
});

describe('LinePicture: data-quality events', () => {
  it('passes valid events on and rejects the rest', () => {
    const { quality, send } = picture();
    const event: DataQualityEvent = { line: 'fab1', station: 'etch-01', kind: 'stuck', sensor: 'rf_power', since: 1, ts: 2, detail: 'flat for 60 s', state: 'raised' };
    expect(send('quality', 'etch-01', event)).toBeUndefined();
    expect(send('quality', 'etch-01', { ...event, kind: 'gremlins' })).toMatch(/kind/);
    expect(quality).toEqual([event]);
  });
});
