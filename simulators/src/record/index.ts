export { MqttRecorder, type MqttRecorderOptions, type RecorderStats } from './mqtt-recorder.js';
export { recordSimulation, type EntrySink, type SimulationRecordingOptions, type SimulationRecordingStats } from './simulate.js';
export { checkMessage, checkPayload, type CheckedMessage } from './check-message.js';
export { DataClock, type StationMessage } from './entries.js';
