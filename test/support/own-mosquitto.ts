import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';

export { freePort };


/**
 * A Mosquitto of a test's own, on a free loopback port, with on-disk persistence: tests that stop and start a
 * broker must never touch the shared one on 1883. stop() sends SIGTERM, so Mosquitto saves its sessions and
 * queued messages; start() again reuses the same config and persistence folder, as a restarted service would.
 */
export class OwnMosquitto {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'lw-own-mqtt-'));

  /** `persistence: false`: a restart forgets every session and retained message, as a fresh broker would. */
  constructor(private readonly opts: { persistence?: boolean } = {}) {}

  private process: ChildProcess | undefined;
  private port = 0;
  /** Everything the broker logged, across restarts: shown when it fails to start. */
  log = '';

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) {
      this.port = await freePort();
      writeFileSync(
        path.join(this.dir, 'mosquitto.conf'),
        [
          `listener ${this.port} 127.0.0.1`, 'allow_anonymous true', `persistence ${this.opts.persistence === false ? 'false' : 'true'}`, `persistence_location ${this.dir}/`,
          'autosave_interval 1', 'max_queued_messages 1000000', 'user root', 'log_dest stderr',
        ].join('\n'),
      );
    }
    const child = spawn('mosquitto', ['-c', path.join(this.dir, 'mosquitto.conf')], {
      env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.process = child;
    await waitForPort(this.port, { timeoutMs: 5_000, exited: () => child.exitCode !== null, log: () => this.log });
  }

  /** SIGTERM and wait for the exit, so the persistence file is written before anyone starts the broker again. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killed);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
