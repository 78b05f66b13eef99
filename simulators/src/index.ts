export { DEFAULT_LINE, type LineDef, type StationDef } from './line.js';
export { stationSensors, TOOL_TYPES } from './tools/index.js';
export { sampleNormal } from './sample.js';
export { LineSimulator, type LineSimulatorOptions, type SimMessage } from './simulator.js';
export {
  DEFAULT_SCENARIO,
  FAULT_DEFAULT_MAGNITUDE,
  FaultSpecSchema,
  ScenarioSchema,
  demoScenario,
  loadScenario,
  parseScenario,
  type FaultSpec,
  type Scenario,
} from './scenario.js';
export { SimulatorRunner, type SimulatorRunnerDeps } from './runner.js';
export type { SensorSpec } from '@linewatch/protocol';
export { recordSimulation, type EntrySink, type SimulationRecordingOptions, type SimulationRecordingStats } from './record/simulate.js';
export { Replayer, type ReplayerOptions, type ReplayResult } from './replay/replayer.js';
export { RecordingFileSource, type FileSourceOptions } from './replay/file-source.js';
export { StoreRangeSource, type StoreRangeOptions } from './replay/store-source.js';
export { MqttReplaySink, type MqttSinkOptions, type ReplaySink } from './replay/publisher.js';
export type { ReplayProgress } from './replay/progress.js';
export type { ReplaySpeed, TimestampMode } from './replay/timeline.js';
export { importCsv, listCsvFiles, ImportOptionsSchema, formatFileResult, type ImportOptions, type ImportOptionsInput, type ImportResult, type FileResult, type ImportHooks } from './import/index.js';
