import { describe, expect, it } from 'vitest';
import { estimateEtaMs, formatDuration, progressLine, type ReplayProgress } from './progress.js';
import { TerminalProgress } from './terminal-progress.js';

function progress(over: Partial<ReplayProgress> = {}): ReplayProgress {
  return { sent: 0, total: 1000, acked: 0, errors: 0, pass: 0, startedAt: 0, etaMs: null, speed: 10, file: 'a.jsonl.gz', dataAt: null, state: 'playing', ...over };
}

describe('estimateEtaMs', () => {
  it('paced: the data left divided by the speed, from the very start', () => {
    expect(estimateEtaMs({ sent: 0, total: 100, elapsedMs: 0, speed: 10, remainingDataMs: 20_000 })).toBe(2_000);
    expect(estimateEtaMs({ sent: 50, total: 100, elapsedMs: 1_000, speed: 4, remainingDataMs: 2_000 })).toBe(500);
  });

  it('max, or ranges unknown: extrapolates the rate so far', () => {
    expect(estimateEtaMs({ sent: 250, total: 1000, elapsedMs: 1_000, speed: 'max', remainingDataMs: 5_000 })).toBe(3_000);
    expect(estimateEtaMs({ sent: 500, total: 1000, elapsedMs: 2_000, speed: 10 })).toBe(2_000);
  });

  it('unknown while nothing is sent at max, or when looping; zero when done', () => {
    expect(estimateEtaMs({ sent: 0, total: 1000, elapsedMs: 100, speed: 'max' })).toBeNull();
    expect(estimateEtaMs({ sent: 10, total: null, elapsedMs: 100, speed: 10, remainingDataMs: 1 })).toBeNull();
    expect(estimateEtaMs({ sent: 1000, total: 1000, elapsedMs: 100, speed: 'max' })).toBe(0);
  });
});

describe('progress display', () => {
  it('formats durations', () => {
    expect(formatDuration(65_000)).toBe('1:05');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatDuration(null)).toBe('--:--');
  });

  it('draws a bar with share, counts, rate and ETA; a counter when looping', () => {
    expect(progressLine(progress({ sent: 500, etaMs: 12_000 }), 2_000, 10)).toBe('[#####-----]  50% 500/1000 250/s 10x ETA 0:12 a.jsonl.gz');
    expect(progressLine(progress({ sent: 500, total: null, pass: 2, speed: 'max', file: null }), 1_000)).toBe('replay max pass 3: 500 sent, 500/s');
  });

  it('on a terminal: redraws one line, at most every 100 ms', () => {
    let now = 0;
    const written: string[] = [];
    const terminal = new TerminalProgress({ isTTY: true, columns: 200, write: (t) => written.push(t) }, () => now);
    terminal.update(progress({ sent: 1 }));
    now = 50;
    terminal.update(progress({ sent: 2 }));
    now = 150;
    terminal.update(progress({ sent: 3 }));
    terminal.finish(progress({ sent: 1000 }));
    expect(written.filter((t) => t.startsWith('\r'))).toHaveLength(3);
    expect(written.every((t) => !t.slice(0, -1).includes('\n'))).toBe(true);
    expect(written.at(-1)).toBe('\n');
  });

  it('in a log: a line at every 10 %, not per update', () => {
    const written: string[] = [];
    const log = new TerminalProgress({ isTTY: false, write: (t) => written.push(t) }, () => 1_000);
    for (let sent = 0; sent <= 1000; sent += 7) log.update(progress({ sent }));
    log.update(progress({ sent: 1000 }));
    log.finish(progress({ sent: 1000 }));
    // Sent moves in steps of 7, so each line is the first update past its 10 % mark.
    expect(written.map((t) => Math.floor(Number(/\s(\d+)%/.exec(t)?.[1]) / 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
