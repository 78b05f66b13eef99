import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startDetector } from '../bench/children.js';

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

/** The real detector (test/bench/children.ts startDetector), with its JSON log lines kept: the crash test reads its shutdown stats. */
export async function spawnDetector(env: Record<string, string>, opts: { until?: 'ready' | 'live' } = {}): Promise<DetectorChild> {
  const { child, port } = await startDetector(env, { pipeStdout: true, ...opts });
  const logs: Record<string, unknown>[] = [];
  // Lines written before this point wait in the pipe, so none is missed.
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not pino JSON (e.g. a warning from node); nothing the test reads.
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, port, logs, exited };
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
