import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild } from './children.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** What every bench child may say besides its own messages: it failed, with the stack. */
export interface ChildFailure {
  type: 'error';
  message: string;
}

/**
 * A forked tsx child that talks in typed messages: the parent waits for one message type at a time, bounded, and
 * a child that fails or exits rejects whatever the parent waits for, so the bench never hangs on a dead child.
 */
export class BenchChild<In extends { type: string }, Out extends { type: string }> {
  private readonly child: ChildProcess;
  private readonly inbox: Out[] = [];
  private waiter: { type: string; resolve: (m: Out) => void; reject: (e: Error) => void } | undefined;
  private ended: Error | undefined;

  constructor(file: string, job: unknown, execArgv: string[] = []) {
    this.child = fork(path.join(HERE, file), [JSON.stringify(job)], {
      execArgv: [...execArgv, '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: Out | ChildFailure) => {
      if (m.type === 'error') return this.fail(new Error(`${file} failed: ${(m as ChildFailure).message}`));
      this.inbox.push(m as Out);
      this.deliver();
    });
    this.child.once('exit', (code, signal) => this.fail(new Error(`${file} exited (${signal ?? code}) before it was done`)));
    // Ctrl-C reaches the whole process group, so the child may be gone by the time we send.
    this.child.on('error', () => undefined);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  send(message: In): void {
    if (this.child.connected) this.child.send(message);
  }

  /** The next message of `type` (earlier messages of other types are skipped), or an error after `timeoutMs`. */
  next<T extends Out['type']>(type: T, timeoutMs: number): Promise<Extract<Out, { type: T }>> {
    if (this.waiter) throw new Error('one wait at a time');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no '${type}' from the child within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<Out, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.deliver();
    });
  }

  async stop(): Promise<void> {
    this.ended ??= new Error('stopped');
    await stopChild(this.child, 10_000);
  }

  private deliver(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.ended) {
      this.waiter = undefined;
      w.reject(this.ended);
      return;
    }
    const i = this.inbox.findIndex((m) => m.type === w.type);
    if (i < 0) return;
    const [m] = this.inbox.splice(0, i + 1).slice(-1);
    this.waiter = undefined;
    w.resolve(m as Out);
  }

  private fail(err: Error): void {
    this.ended ??= err;
    this.deliver();
  }
}

/** The child's side: its job from argv, a typed send, and the messages it is sent. */
export function childSide<In extends { type: string }, Out extends { type: string }>(): {
  job: <J>() => J;
  send: (m: Out | ChildFailure) => Promise<void>;
  on: (listener: (m: In) => void) => void;
} {
  return {
    job: <J>() => JSON.parse(process.argv[2] ?? '{}') as J,
    send: (m) => new Promise((resolve) => (process.send ? process.send(m, () => resolve()) : resolve())),
    on: (listener) => process.on('message', (m: In) => listener(m)),
  };
}
