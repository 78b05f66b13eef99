import type { ModelMetadata } from '@linewatch/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DetectorMetrics } from './metrics.js';
import type { ScoredRow, StationModel } from './model/types.js';
import { Scorer } from './scorer.js';

/** A model whose runs finish only when the test says so: how long onnxruntime takes is not ours to control. */
class GatedModel implements StationModel {
  readonly meta = { version: 'gated@1', features: ['a'], threshold: 1 } as unknown as ModelMetadata;
  readonly calls: number[] = [];
  private gates: (() => void)[] = [];
  async score(_rows: Float32Array, n: number): Promise<ScoredRow[]> {
    this.calls.push(n);
    await new Promise<void>((open) => this.gates.push(open));
    return Array.from({ length: n }, () => ({ score: 0.5, t2: 1, spe: 0.1 }));
  }
  openNext(): void {
    this.gates.shift()?.();
  }
  async release(): Promise<void> {}
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Scorer', () => {
  it('batches what arrives in one turn, keeps order, and wakes a backlog waiter only once the backlog drains', async () => {
    const model = new GatedModel();
    const scorer = new Scorer({ batchMax: 4, batchWaitMs: 0, metrics: new DetectorMetrics(), logger: pino({ level: 'silent' }) });
    const resolved = { model, path: '/m/gated.onnx' };
    const order: number[] = [];
    for (let i = 0; i < 6; i++) scorer.enqueue(resolved, [i], () => order.push(i));
    expect(scorer.backlog).toBe(6);
    let woken = false;
    const waiting = scorer.waitForBacklogBelow(3).then(() => (woken = true));
    await tick();
    expect(model.calls).toEqual([4]); // one batch of batchMax, the rest chained behind it
    expect(woken).toBe(false);
    model.openNext();
    await tick();
    await tick();
    expect(order).toEqual([0, 1, 2, 3]);
    expect(scorer.backlog).toBe(2);
    await waiting;
    expect(woken).toBe(true);
    model.openNext();
    await scorer.stop();
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(model.calls).toEqual([4, 2]);
    await expect(scorer.waitForBacklogBelow(1)).resolves.toBeUndefined();
  });
});
