import { RecordingWriter, type RecordingHeader } from '@linewatch/recording';
import { DEFAULT_LINE, LineSimulator, recordSimulation, type Scenario } from '@linewatch/simulators';

export interface TestRecordingOptions {
  line: string;
  seconds: number;
  rateHz?: number;
  seed?: number;
  scenario?: Scenario;
  /** Only these stations of the default line; all of them when unset. */
  stations?: string[];
}

/** Writes a small simulator recording, as `npm run record -- --simulate` would, and returns its header. */
export async function writeTestRecording(file: string, options: TestRecordingOptions): Promise<RecordingHeader> {
  const { line, seconds, rateHz = 1, seed = 5, scenario = { faults: [] }, stations } = options;
  const def = { ...DEFAULT_LINE, line, stations: stations ? DEFAULT_LINE.stations.filter((s) => stations.includes(s.id)) : DEFAULT_LINE.stations };
  const simulator = new LineSimulator({ line: def, scenario, seed, rateHz, startTs: Date.now() - seconds * 1000 });
  const writer = await RecordingWriter.create(file, { source: { kind: 'simulator', detail: `test seed ${seed}` }, scenario: 'test' });
  await recordSimulation({ simulator, durationMs: seconds * 1000, sink: writer });
  return writer.close();
}
