export * from './format.js';
export { listRecordings, readEntries, readHeader, type ReadOptions } from './reader.js';
export { RecordingWriter, type RecordingWriterOptions } from './writer.js';
