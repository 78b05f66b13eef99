import type { IClientOptions } from 'mqtt';
import type { ApiConfig } from './config.js';

/**
 * How the API's broker links connect: its credentials, a clean session (each link subscribes again on every
 * connect, so what it needs is asked for afresh after an outage), and steady reconnects. `suffix` tells the links
 * apart at the broker (`linewatch-api-readings`). TLS settings apply to every link.
 */
export function brokerOptions(config: Pick<ApiConfig, 'MQTT_CLIENT_ID' | 'MQTT_USERNAME' | 'MQTT_PASSWORD' | 'MQTT_TLS'>, suffix = ''): IClientOptions {
  return {
    clientId: suffix ? `${config.MQTT_CLIENT_ID}-${suffix}` : config.MQTT_CLIENT_ID,
    ...(config.MQTT_USERNAME ? { username: config.MQTT_USERNAME, password: config.MQTT_PASSWORD } : {}),
    clean: true,
    reconnectPeriod: 1_000,
    connectTimeout: 5_000,
    resubscribe: false,
    ...config.MQTT_TLS,
  };
}
