import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPO_ROOT, freePort, sleep } from '../bench/children.js';

/** The detector's own numbers from its 'detector stopped' log line (see app.ts stop()). */
export interface StoppedStats {
  readingsAccepted: number;
  readingsWritten: number;
  readingsDropped: number;
  dropped: number;
}

export interface DetectorChild {
  child: ChildProcess;
  port: number;
  /** Every JSON log line the process wrote to stdout, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (null when killed by a signal) and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The real detector entry (`node --import tsx services/detector/src/index.ts`), like test/bench/children.ts
 * startDetector, but with stdout piped: the crash test reads the shutdown stats from the log, and node runs it
 * directly so SIGKILL hits the detector itself, not a wrapper.
 */
export async function spawnDetector(env: Record<string, string>, readyWithinMs = 30_000): Promise<DetectorChild> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/detector/src/index.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, HTTP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not pino JSON (e.g. a warning from node); nothing the test reads.
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + readyWithinMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`detector exited with ${child.exitCode} during start`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) return { child, port, logs, exited };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`detector not ready within ${readyWithinMs} ms`);
}

/** SIGTERM, then the stats of its 'detector stopped' line; SIGKILL if it hangs, which fails the caller. */
export async function terminate(d: DetectorChild, graceMs = 15_000): Promise<{ code: number | null; stats: StoppedStats | undefined }> {
  const timer = setTimeout(() => d.child.kill('SIGKILL'), graceMs);
  d.child.kill('SIGTERM');
  const { code } = await d.exited;
  clearTimeout(timer);
  const stopped = d.logs.find((l) => l.msg === 'detector stopped');
  return { code, stats: stopped?.stats as StoppedStats | undefined };
}

/** Kills a child that is still running; for cleanup after a failed test. */
export async function killIfRunning(d: DetectorChild | undefined): Promise<void> {
  if (!d || d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill('SIGKILL');
  await d.exited;
}
