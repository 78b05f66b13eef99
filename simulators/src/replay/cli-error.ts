/**
 * An error and its causes as short lines for a terminal: `replay cannot connect to mqtt://host:1883`, then
 * `  because: connect ECONNREFUSED 127.0.0.1:1883`. Stack traces belong in logs (LOG_LEVEL=debug), not here.
 */
export function describeError(err: unknown): string {
  const lines: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 6; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    lines.push(depth === 0 ? message : `  because: ${message}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join('\n');
}
