export { Replayer, type ReplayerEvents, type ReplayerOptions, type ReplayResult } from './replayer.js';
export { MqttReplaySink, type MqttSinkOptions, type PublishOptions, type ReplaySink, type SinkStats } from './publisher.js';
export type { ReplaySegment, ReplaySource } from './source.js';
export { RecordingFileSource, type FileSourceOptions } from './file-source.js';
export { StoreRangeSource, type SkippedRow, type StoreRangeOptions } from './store-source.js';
export { estimateEtaMs, formatDuration, progressLine, type ReplayProgress } from './progress.js';
export { Timeline, type ReplaySpeed, type TimestampMode } from './timeline.js';
export { windowEntries, windowFromOffsets, type EntryWindow } from './window.js';
