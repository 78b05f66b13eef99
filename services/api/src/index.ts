import pino from 'pino';
import { createStore, initStore, storeConfigFromEnv } from '@linewatch/store';
import { createApi } from './app.js';
import { REPO_ROOT, loadApiConfig, type ApiConfig } from './config.js';

/** Process entry: config, store, API; SIGINT/SIGTERM stop them in reverse order. */
const logger = pino({
  name: 'linewatch-api',
  level: process.env.LOG_LEVEL ?? 'info',
  redact: { paths: ['*.MQTT_PASSWORD', '*.INFLUX_PASSWORD', '*.API_TOKEN', 'password', '*.password', 'req.headers.authorization', '*.authorization'], censor: '[redacted]' },
});

async function main(): Promise<void> {
  let config: ApiConfig;
  try {
    config = loadApiConfig(process.env);
  } catch (err) {
    logger.fatal((err as Error).message);
    process.exit(1);
  }
  const store = createStore(storeConfigFromEnv(config, REPO_ROOT), logger);
  // The page and the live feed work without the store (history and alert export wait for it), so a store that is
  // down does not keep the API from starting.
  const setup = await initStore(store, logger);
  const api = createApi(config, { store, logger });
  await api.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    setup.stop();
    logger.info({ signal }, 'stopping');
    try {
      await api.stop();
      await store.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'unclean stop');
      process.exit(1);
    }
  };
  process.on('SIGINT', (s) => void stop(s));
  process.on('SIGTERM', (s) => void stop(s));
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'api failed to start');
  process.exit(1);
});
