import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/ports.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Every child this bench started, so an error or Ctrl-C still ends them all. */
const live = new Set<ChildProcess>();

export async function killAll(): Promise<void> {
  await Promise.all([...live].map((c) => stopChild(c, 10_000)));
}

export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    live.delete(child);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  live.delete(child);
}

type Reply<R> = { type: 'ready' } | { type: 'done'; result: R } | { type: 'error'; message: string };

/** A forked tsx worker that says 'ready', waits for a go message, then reports one result. */
export interface Worker<R> {
  ready: Promise<void>;
  go(): boolean;
  result: Promise<R>;
}

export function forkWorker<R>(file: string, job: unknown, timeoutMs: number): Worker<R> {
  const child = fork(path.join(HERE, file), [JSON.stringify(job)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (readyResolve = resolve));
  const result = new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${file} gave no result within ${timeoutMs} ms`));
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (m: Reply<R>) => {
      if (m.type === 'ready') readyResolve();
      else if (m.type === 'done') {
        clearTimeout(timer);
        resolve(m.result);
      } else {
        clearTimeout(timer);
        reject(new Error(`${file} failed: ${m.message}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code} before reporting`));
    });
  });
  // A worker that dies before 'ready' must not leave the caller waiting on `ready` forever.
  result.catch(() => readyResolve());
  // Ctrl-C reaches the whole process group, so a worker may be gone by the time we say go.
  child.on('error', () => undefined);
  return { ready, go: () => child.connected && child.send('go'), result };
}

export { freePort };

export interface DetectorProc {
  child: ChildProcess;
  port: number;
}

/**
 * The real detector entry (`tsx services/detector/src/index.ts`), run by node directly so its pid is the detector's
 * (a SIGKILL hits the detector, not a wrapper). `pipeStdout` hands its JSON log to the caller instead of the terminal.
 */
export async function startDetector(env: Record<string, string>, opts: { pipeStdout?: boolean; until?: 'ready' | 'live' } = {}): Promise<DetectorProc> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(process.env.BENCH_DETECTOR_NODE_ARGS ? process.env.BENCH_DETECTOR_NODE_ARGS.split(' ') : []), '--import', 'tsx', 'services/detector/src/index.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, HTTP_PORT: String(port) },
    stdio: ['ignore', opts.pipeStdout ? 'pipe' : 'inherit', 'inherit'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`detector exited with ${child.exitCode} during start`);
    // 'live': up and serving, though not ready (a detector started while its store is down is never ready at first).
    const ok = await fetch(`http://127.0.0.1:${port}/${opts.until === 'live' ? 'healthz' : 'readyz'}`).then((r) => r.ok, () => false);
    if (ok) return { child, port };
    await sleep(100);
  }
  await stopChild(child, 5000);
  throw new Error(`detector not ${opts.until === 'live' ? 'up' : 'ready'} within 30 s`);
}

export interface ApiProc {
  child: ChildProcess;
  port: number;
  url: string;
}

/**
 * The real API entry (`tsx services/api/src/index.ts`) on a free loopback port, with its alerts database,
 * recordings and logs in `dir`, and no webhooks; resolves once /readyz answers. `env` adds the store and line.
 */
export async function startApi(env: Record<string, string>, dir: string, opts: { pipeStdout?: boolean } = {}): Promise<ApiProc> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/api/src/index.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env, HOST: '127.0.0.1', PORT: String(port), MQTT_CLIENT_ID: '', ALERTS_DB_PATH: path.join(dir, 'alerts.sqlite'),
      RECORDINGS_DIR: path.join(dir, 'recordings'), WEBHOOKS_FILE: '', LOG_LEVEL: 'warn', ...env,
    },
    stdio: ['ignore', opts.pipeStdout ? 'pipe' : 'inherit', 'inherit'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(`${url}/readyz`, child, 'API');
  } catch (err) {
    await stopChild(child, 5000);
    throw err;
  }
  return { child, port, url };
}

/** Polls `url` until it answers 2xx; fails at once if `child` exits, and after 30 s. */
export async function waitReady(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} during start`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} not ready within 30 s (${url})`);
}

/** Counter and gauge values from the detector's /metrics, summed over labels. */
export async function detectorMetrics(port: number): Promise<Map<string, number>> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return out;
}

/** Cumulative bucket counts (by upper bound in seconds) of one histogram on the detector's /metrics. */
export async function detectorHistogram(port: number, name: string): Promise<Map<number, number>> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  const out = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\}\\s+(\\S+)`);
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m) out.set(m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2]));
  }
  return out;
}

/** Samples VmRSS of a process every `everyMs` until stopped; returns the samples in MiB. */
export function sampleRss(pid: number, everyMs: number): { stop: () => number[] } {
  const samples: number[] = [];
  const take = (): void => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) samples.push(Number(m[1]) / 1024);
    } catch {
      // The process ended; the samples so far stand.
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
