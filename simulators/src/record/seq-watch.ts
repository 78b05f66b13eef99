/** Snapshots per station remembered for duplicate detection: far more than a broker keeps in flight. */
const WINDOW = 4096;

export interface SeqVerdict {
  /** The same snapshot (seq and ts) was seen already: a QoS 1 redelivery. */
  duplicate: boolean;
  /** Change in the count of missing snapshots: +n for a gap of n, -1 when a late snapshot fills one. */
  missing: number;
  /** seq went back with a newer ts: the publisher restarted (not a loss). */
  reset: boolean;
}

interface StationSeq {
  maxSeq: number;
  maxTs: number;
  seen: Set<string>;
  ring: string[];
  next: number;
}

/**
 * Per-station seq bookkeeping of a recorder: which snapshots are redeliveries (skipped) and how many are missing.
 * A redelivery repeats the snapshot exactly, so identity is (seq, ts), not seq alone: a publisher that restarts
 * at seq 0 sends new snapshots with old seqs.
 */
export class SeqWatch {
  private readonly stations = new Map<string, StationSeq>();

  observe(station: string, seq: number, ts: number): SeqVerdict {
    const key = `${seq}:${ts}`;
    const s = this.stations.get(station);
    if (!s) {
      this.stations.set(station, { maxSeq: seq, maxTs: ts, seen: new Set([key]), ring: [key], next: 1 });
      return { duplicate: false, missing: 0, reset: false };
    }
    if (s.seen.has(key)) return { duplicate: true, missing: 0, reset: false };
    this.remember(s, key);
    let verdict: SeqVerdict;
    if (seq > s.maxSeq) {
      verdict = { duplicate: false, missing: seq - s.maxSeq - 1, reset: false };
      s.maxSeq = seq;
    } else if (ts > s.maxTs) {
      verdict = { duplicate: false, missing: 0, reset: true };
      s.maxSeq = seq;
    } else {
      verdict = { duplicate: false, missing: -1, reset: false };
    }
    if (ts > s.maxTs) s.maxTs = ts;
    return verdict;
  }

  private remember(s: StationSeq, key: string): void {
    if (s.ring.length < WINDOW) {
      s.ring.push(key);
    } else {
      const slot = s.next % WINDOW;
      s.seen.delete(s.ring[slot]!);
      s.ring[slot] = key;
    }
    s.next++;
    s.seen.add(key);
  }
}
