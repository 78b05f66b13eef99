import type { Anomaly, DataQualityEvent, ServiceHealth, StateMessage, StationMeta, StationStatus, Truth, WaferVerdict } from '@linewatch/protocol';

/** What LineState tells the rest of the API. Mirrors the socket.io server events on purpose. */
export interface LineEvents {
  meta: (meta: StationMeta) => void;
  state: (update: { line: string; station: string; state: StateMessage }) => void;
  status: (status: StationStatus) => void;
  anomaly: (anomaly: Anomaly) => void;
  truth: (truth: Truth) => void;
  /** A new wafer-level verdict (a redelivered one is not announced again). */
  wafer: (verdict: WaferVerdict) => void;
  quality: (event: DataQualityEvent) => void;
  broker: (link: { connected: boolean; at: number }) => void;
  /** Every service's health, after one changed. */
  services: (services: ServiceHealth[]) => void;
}

type Listener<E, K extends keyof E> = E[K] extends (...args: infer A) => void ? (...args: A) => void : never;

/**
 * A minimal typed event bus. Listener errors are caught and reported, so one failing consumer
 * cannot stop the MQTT handler that emitted the event.
 */
export class TypedBus<E extends { [K in keyof E]: (...args: never[]) => void }> {
  private readonly listeners = new Map<keyof E, Set<(...args: unknown[]) => void>>();

  constructor(private readonly onListenerError: (event: keyof E, err: unknown) => void) {}

  on<K extends keyof E>(event: K, listener: Listener<E, K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const fn = listener as (...args: unknown[]) => void;
    set.add(fn);
    return () => set.delete(fn);
  }

  emit<K extends keyof E>(event: K, ...args: Parameters<Listener<E, K>>): void {
    for (const fn of this.listeners.get(event) ?? []) {
      try {
        fn(...args);
      } catch (err) {
        this.onListenerError(event, err);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
