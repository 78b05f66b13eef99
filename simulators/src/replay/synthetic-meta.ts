import { ID_PATTERN, StationMetaSchema, type SensorSpec, type StationMeta } from '@linewatch/protocol';
import { stationSensors, TOOL_TYPES } from '../tools/index.js';

/** The type a station id implies: `etch-01` → `etch`. The id itself when nothing is left after the suffix. */
export function typeFromStationId(station: string): string {
  const type = station.replace(/-\d+$/, '');
  return type !== '' && ID_PATTERN.test(type) ? type : station;
}

/**
 * Builds the meta message of a station that a store range lacks (stores keep readings, not meta). The detector
 * only needs `type` to pick a model; units and ranges come from the simulator's tool model when the type is one
 * of its tools, and otherwise from the values seen so far (unit unknown).
 */
export class SyntheticMeta {
  private readonly sensors = new Map<string, { min: number; max: number }>();
  private readonly known: Map<string, SensorSpec>;
  readonly type: string;

  constructor(
    private readonly line: string,
    private readonly station: string,
    private readonly order: number,
    type?: string,
  ) {
    this.type = type ?? typeFromStationId(station);
    this.known = new Map(TOOL_TYPES.includes(this.type) ? stationSensors(this.type).map((s) => [s.name, s]) : []);
  }

  /** Takes note of a reading's sensors; true when it brings a sensor not seen before (the meta changed). */
  observe(values: Record<string, number>): boolean {
    let added = false;
    for (const [name, value] of Object.entries(values)) {
      const range = this.sensors.get(name);
      if (range) {
        if (value < range.min) range.min = value;
        if (value > range.max) range.max = value;
      } else {
        this.sensors.set(name, { min: value, max: value });
        added = true;
      }
    }
    return added;
  }

  get sensorCount(): number {
    return this.sensors.size;
  }

  message(): StationMeta {
    const sensors = [...this.sensors].map(([name, seen]) => this.known.get(name) ?? { name, unit: '', min: seen.min, max: seen.max });
    return StationMetaSchema.parse({ line: this.line, station: this.station, type: this.type, name: this.station, order: this.order, sensors });
  }
}
