import { SensorNameSchema } from '@linewatch/protocol';

/**
 * The sensor name for a CSV header. A header that already is a valid sensor name is kept as it is, so models
 * trained on those names still match. Any other header becomes snake_case: accents dropped, lower case, every run
 * of other characters one `_` (`RF Btm Pwr` → `rf_btm_pwr`, `Pressure (mTorr)` → `pressure_mtorr`), `s_` in front
 * of a leading digit, cut to 64 characters. A header with nothing usable left becomes `column_{n}`.
 */
export function toSensorName(header: string, column: number): string {
  if (SensorNameSchema.safeParse(header).success) return header;
  let name = header
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (name === '') return `column_${column}`;
  if (!/^[a-z]/.test(name)) name = `s_${name}`;
  return name.slice(0, 64).replace(/_+$/, '');
}

export interface SensorColumn {
  /** 0-based position in the record. */
  index: number;
  /** Header as written in the file. */
  column: string;
  /** Name in the recording. */
  name: string;
}

/**
 * Names every sensor column; throws when two columns would share a name, because one of them would silently
 * overwrite the other in every snapshot.
 */
export function nameSensors(columns: { index: number; column: string }[]): SensorColumn[] {
  const byName = new Map<string, SensorColumn>();
  const clashes: string[] = [];
  for (const { index, column } of columns) {
    const name = toSensorName(column, index + 1);
    const other = byName.get(name);
    if (other) clashes.push(`'${other.column}' (column ${other.index + 1}) and '${column}' (column ${index + 1}) both become sensor '${name}'`);
    else byName.set(name, { index, column, name });
  }
  if (clashes.length > 0) {
    throw new Error(`sensor name collision: ${clashes.join('; ')}; rename a header or --exclude one of them`);
  }
  return [...byName.values()];
}
