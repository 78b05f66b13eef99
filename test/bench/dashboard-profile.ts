import { writeFileSync } from 'node:fs';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * A CPU profile of the page over the measured window (`LW_BENCH_PROFILE=1 npm run bench:dashboard`): where the
 * main thread's script time goes, by function (self time), to find what a long task is made of. Off by default:
 * the profiler itself costs frames.
 */
export class PageProfiler {
  private constructor(private readonly cdp: CDPSession) {}

  static async start(context: BrowserContext, page: Page): Promise<PageProfiler> {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
    return new PageProfiler(cdp);
  }

  /** Stops, writes the .cpuprofile (open it in Chromium's DevTools) and returns the top functions by self time. */
  async stop(file: string, top = 15): Promise<string[]> {
    const { profile } = (await this.cdp.send('Profiler.stop')) as { profile: Profile };
    writeFileSync(file, JSON.stringify(profile));
    const self = new Map<number, number>();
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0)));
    const byName = new Map<string, number>();
    for (const node of profile.nodes) {
      const us = self.get(node.id) ?? 0;
      if (us === 0) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      const name = `${functionName || '(anonymous)'} ${url.split('/').pop() ?? ''}:${lineNumber + 1}`;
      byName.set(name, (byName.get(name) ?? 0) + us);
    }
    const total = [...byName.values()].reduce((a, b) => a + b, 0);
    return [...byName.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `${(us / 1000).toFixed(0).padStart(7)} ms ${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}`);
  }
}

interface TraceEvent {
  name: string;
  ph: string;
  dur?: number;
  tid: number;
  pid: number;
  args?: { name?: string };
}

/**
 * Where the page's renderer main thread spends a few seconds, by trace event (`LW_BENCH_TRACE=1`): script, style,
 * layout, paint, raster and compositing each show, which a JS profile cannot (it calls them all "(program)").
 */
export async function traceMainThread(context: BrowserContext, page: Page, seconds: number, top = 15): Promise<string[]> {
  const cdp = await context.newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
  const done = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,blink,cc,gpu,viz', transferMode: 'ReportEvents' });
  await new Promise((r) => setTimeout(r, seconds * 1_000));
  await cdp.send('Tracing.end');
  await done;
  await cdp.detach();
  const threads = new Map<string, string>();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threads.set(`${e.pid}:${e.tid}`, e.args?.name ?? '');
  const byName = new Map<string, number>();
  for (const e of events) {
    if (e.ph !== 'X' || !e.dur) continue;
    const thread = threads.get(`${e.pid}:${e.tid}`) ?? '?';
    const key = `${thread} · ${e.name}`;
    byName.set(key, (byName.get(key) ?? 0) + e.dur);
  }
  return [...byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => `${(us / 1000 / seconds).toFixed(0).padStart(6)} ms/s  ${name}`);
}
