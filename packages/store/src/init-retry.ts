import { cappedBackoffMs } from '@linewatch/protocol';
import type { Logger } from 'pino';

/**
 * Sets the store up (database, retention policies, continuous queries) without letting a store that is down stop
 * the service from starting: a service that scores or serves the page is worth more running than waiting. When the
 * first try fails, it retries in the background with capped backoff (1 s, 2 s, 4 s, 8 s, then every 10 s) until it succeeds or
 * `stop()` is called. Resolves with whether the first try succeeded.
 */
export async function initStore(
  store: { init(): Promise<void> },
  logger: Logger,
  opts: { firstDelayMs?: number; maxDelayMs?: number } = {},
): Promise<{ ready: boolean; stop: () => void }> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    stopped = true;
    clearTimeout(timer);
  };
  try {
    await store.init();
    return { ready: true, stop };
  } catch (err) {
    logger.error({ err }, 'store not reachable at start; starting anyway and retrying its setup in the background');
  }
  const first = opts.firstDelayMs ?? 1_000;
  const max = opts.maxDelayMs ?? 10_000;
  const retry = (attempt: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      store.init().then(
        () => logger.info({ attempt }, 'store set up'),
        (err: unknown) => {
          logger.warn({ err: { message: (err as Error).message }, attempt }, 'store setup failed; retrying');
          retry(attempt + 1);
        },
      );
    }, cappedBackoffMs(attempt, first, max));
    timer.unref();
  };
  retry(1);
  return { ready: false, stop };
}
