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
export { importCsv, listCsvFiles, ImportOptionsSchema, formatFileResult, type ImportOptions, type ImportOptionsInput, type ImportResult, type FileResult, type ImportHooks } from './import/index.js';
export * from './record/index.js';
export * from './replay/index.js';
