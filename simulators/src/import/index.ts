/** CSV import: the library behind `npm run import`, for the API and tests. See docs/import.md. */
export { importCsv, layOutRuns, listCsvFiles, type FileResult, type ImportHooks, type ImportResult } from './import-csv.js';
export { ImportOptionsSchema, type ImportOptions, type ImportOptionsInput } from './options.js';
export { CsvParser, detectDelimiter, DELIMITERS, type CsvRecord, type Delimiter } from './csv-parser.js';
export { parseDateTime, parseLabel, parseNumber, parseTime } from './cells.js';
export { toSensorName } from './sensor-names.js';
export { formatFileResult, formatRowError } from './report.js';
export type { Reading, RowError } from './rows.js';
export type { FilePlan, RunPlan } from './scan.js';
export { IMPORT_CREATED_AT, type WrittenRecording } from './write.js';
