import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

const INFLUXD = process.env.LINEWATCH_INFLUXD ?? '/usr/bin/influxd';

/**
 * An InfluxDB 1.x of a test's own, on free loopback ports, with its meta, data and WAL under a temp dir: tests that
 * stop and start the database must never touch the shared one on 8086. stop() sends SIGTERM, so influxd closes its
 * shards cleanly; start() again reuses the same config, dirs and ports, as a restarted service would.
 */
export class OwnInfluxd {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'lw-own-influxd-'));

  private process: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private httpPort = 0;
  /** Everything influxd logged, across restarts: shown when it fails to start. */
  log = '';

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get port(): number {
    return this.httpPort;
  }

  /** Spawns influxd and resolves once GET /ping answers 204; throws with its log when it exits or takes over 20 s. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.process) throw new Error('OwnInfluxd already running');
    const config = path.join(this.dir, 'influxdb.conf');
    if (this.httpPort === 0) {
      this.httpPort = await freePort();
      const rpcPort = await freePort();
      writeFileSync(config, this.config(rpcPort));
    }
    const child = spawn(INFLUXD, ['-config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    // A missing binary surfaces as 'error', not as an exit: without a listener it would crash the test runner.
    child.once('error', (err) => (this.log += `\nspawn ${INFLUXD} failed: ${err.message}`));
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    this.process = child;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) break;
      const status = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.status, () => 0);
      if (status === 204) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.stop();
    throw new Error(`influxd did not answer ${this.url}/ping with 204 within ${timeoutMs} ms:\n${this.log.slice(-4000)}`);
  }

  /** SIGTERM and wait for the exit (SIGKILL after 10 s), so the WAL is closed before anyone starts influxd again. */
  async stop(): Promise<void> {
    const child = this.process;
    const exited = this.exited;
    this.process = undefined;
    this.exited = undefined;
    if (!child || !exited) return;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killed);
    }
  }

  /**
   * SIGSTOP: influxd keeps its port and accepts connections but answers nothing, as a hung server does (a full
   * disk, a long GC, a stuck compaction). `resume()` sends SIGCONT.
   */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  async dispose(): Promise<void> {
    this.resume();
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Like .ci/influxdb.conf, but every path in the temp dir and every port free, so it runs beside the shared one. */
  private config(rpcPort: number): string {
    return [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${path.join(this.dir, 'meta')}"`,
      '[data]',
      `  dir = "${path.join(this.dir, 'data')}"`,
      `  wal-dir = "${path.join(this.dir, 'wal')}"`,
      '  query-log-enabled = false',
      '  max-series-per-database = 0',
      '  max-values-per-tag = 0',
      '[coordinator]',
      '  max-select-point = 0',
      // The _internal database would only add writes of its own every 10 s.
      '[monitor]',
      '  store-enabled = false',
      '[http]',
      '  enabled = true',
      `  bind-address = "127.0.0.1:${this.httpPort}"`,
      '  auth-enabled = false',
      '  log-enabled = false',
      '[continuous_queries]',
      '  enabled = true',
      '  run-interval = "1s"',
      '',
    ].join('\n');
  }
}
