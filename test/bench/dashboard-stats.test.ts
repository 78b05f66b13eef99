import { describe, expect, it } from 'vitest';
import { countAt, framesPerWindow, parseBenchArgs, socketEventArg, socketEventName, spread } from './dashboard-stats.js';

describe('parseBenchArgs', () => {
  it('defaults to the issue load: 50 stations × 20 sensors × 10 Hz for 60 s, built first', () => {
    expect(parseBenchArgs([])).toEqual({ seconds: 60, warmup: 10, stations: 50, sensors: 20, hz: 10, build: true, embeddedBroker: false });
  });
  it('takes every option, --no-build and --embedded-broker', () => {
    expect(parseBenchArgs(['--seconds', '20', '--stations', '8', '--sensors', '5', '--hz', '2.5', '--warmup', '3', '--no-build', '--embedded-broker'])).toEqual({
      seconds: 20, warmup: 3, stations: 8, sensors: 5, hz: 2.5, build: false, embeddedBroker: true,
    });
  });
  it('refuses out-of-bounds and non-integer values, naming every one', () => {
    expect(() => parseBenchArgs(['--seconds', '100000', '--stations', '2.5', '--hz', 'fast'])).toThrow(
      /--seconds must be an integer from 5 to 600 \(got 100000\); --stations must be an integer from 1 to 200 \(got 2.5\); --hz must be a number from 0.1 to 50 \(got fast\)/,
    );
  });
  it('refuses unknown options rather than ignoring a typo', () => {
    expect(() => parseBenchArgs(['--second', '20'])).toThrow();
  });
});

describe('framesPerWindow', () => {
  it('counts frames per whole second from `from`, leaving out frames outside and a partial last window', () => {
    const frames = [999, 1000, 1016, 1999.9, 2000, 2500, 3999, 4000, 4100];
    expect(framesPerWindow(frames, 1000, 4500)).toEqual([3, 2, 1]);
  });
  it('gives 60 a window for a steady 60 Hz', () => {
    const frames = Array.from({ length: 600 }, (_, i) => 5 + (i * 1000) / 60);
    expect(framesPerWindow(frames, 0, 10_000)).toEqual(Array(10).fill(60));
  });
});

describe('socketEventName', () => {
  it('reads the event of socket.io event packets, with a namespace or an ack id', () => {
    expect(socketEventName('42["status",{"ts":1}]')).toBe('status');
    expect(socketEventName('42/admin,["readings",{}]')).toBe('readings');
    expect(socketEventName('4217["lineStats",{}]')).toBe('lineStats');
  });
  it('is null for engine.io pings and pongs, the handshake and acks', () => {
    for (const p of ['2', '3', '0{"sid":"x"}', '40{"sid":"y"}', '4317[{}]']) expect(socketEventName(p)).toBeNull();
  });
});

describe('socketEventArg', () => {
  it('parses the first argument of an event', () => {
    expect(socketEventArg('42["readings",{"readings":[{"ts":1},{"ts":2}]}]')).toEqual({ readings: [{ ts: 1 }, { ts: 2 }] });
  });
  it('is undefined for a non-event or a cut frame', () => {
    expect(socketEventArg('2')).toBeUndefined();
    expect(socketEventArg('42["status",{"ts":')).toBeUndefined();
  });
});

describe('spread and countAt', () => {
  it('gives nearest-rank median and 5th percentile', () => {
    const s = spread(Array.from({ length: 20 }, (_, i) => i + 1));
    expect([s.n, s.median, s.p5, s.p95, s.min, s.max]).toEqual([20, 10, 1, 19, 1, 20]);
  });
  it('is NaN without samples, so an empty run never looks fast', () => {
    expect(spread([]).median).toBeNaN();
  });
  it('fills the seconds before an index with zeros', () => {
    const counts: number[] = [];
    countAt(counts, 2);
    countAt(counts, 2, 3);
    countAt(counts, 0);
    expect(counts).toEqual([1, 0, 4]);
  });
});
