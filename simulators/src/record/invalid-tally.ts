/** Distinct reasons kept; past this, messages are still counted but their reason is not listed. */
const MAX_REASONS = 20;

export interface InvalidReason {
  reason: string;
  count: number;
  /** The first topic it happened on. */
  topic: string;
}

/**
 * Messages a recorder refused: every one is counted, and the distinct reasons are listed (with a count and an
 * example topic) in the summary, so nothing is dropped without the operator seeing why.
 */
export class InvalidTally {
  count = 0;
  private readonly reasons = new Map<string, InvalidReason>();

  add(topic: string, reason: string): void {
    this.count++;
    // Schema messages name the field, not the value, so they group well; cap the text anyway.
    const key = reason.slice(0, 300);
    const seen = this.reasons.get(key);
    if (seen) seen.count++;
    else if (this.reasons.size < MAX_REASONS) this.reasons.set(key, { reason: key, count: 1, topic });
  }

  list(): InvalidReason[] {
    return [...this.reasons.values()].sort((a, b) => b.count - a.count);
  }
}
