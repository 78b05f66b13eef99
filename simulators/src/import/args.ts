/** The import CLI's flags: parsed with node:util, checked with zod, turned into `importCsv` options. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { parseDateTime } from './cells.js';
import type { ImportOptionsInput } from './options.js';

export const USAGE = `usage: npm run import -- FILE.csv|FOLDER [options]
  --delimiter , | ; | tab     field separator (default: detected)
  --decimal-comma             numbers are written 1,5
  --time-column NAME          default: the column named ts, time, timestamp, datetime or date
  --time-unit s|ms            unit of numeric times (default: ms from 1e11 up, else s)
  --time-origin ISO           numeric times are seconds from each run's time 0; runs laid out from here
  --run-gap S                 seconds between runs laid out from --time-origin (default 60)
  --exclude A,B               columns that are not sensors
  --label-column NAME | --label 0|1     point labels (0/1, 0.0/1.0, true/false) or one for the whole file
  --fault-column NAME         the fault name of a row
  --station-column, --recipe-column, --step-column, --lot-column, --wafer-column NAME
  --run-column NAME           one recording per value (rows of a run contiguous)
  --line ID (plant)  --station ID (station-01)  --type ID (station id without -NN)  --recipe NAME
  --out DIR                   default recordings/
  --skip-bad-rows             write the good rows of a file with bad rows (each bad row is still printed)
  --allow-missing             an empty sensor cell leaves the sensor out of that snapshot`;

const STRING_FLAGS = [
  'delimiter', 'time-column', 'time-unit', 'time-origin', 'run-gap', 'label-column', 'label', 'fault-column', 'station-column',
  'recipe-column', 'step-column', 'lot-column', 'wafer-column', 'run-column', 'line', 'station', 'type', 'recipe', 'out',
] as const;
const BOOLEAN_FLAGS = ['decimal-comma', 'skip-bad-rows', 'allow-missing', 'help'] as const;
const FLAG_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  ...Object.fromEntries(STRING_FLAGS.map((f) => [f, { type: 'string' as const }])),
  ...Object.fromEntries(BOOLEAN_FLAGS.map((f) => [f, { type: 'boolean' as const }])),
  exclude: { type: 'string', multiple: true },
};

const DelimiterArg = z
  .string()
  .transform((v) => ({ tab: '\t', '\\t': '\t', comma: ',', semicolon: ';' })[v] ?? v)
  .pipe(z.enum([',', ';', '\t'], { message: "use ',', ';' or tab" }));
const TimeOriginArg = z.string().transform((v, ctx) => {
  const parsed = parseDateTime(v);
  if ('value' in parsed) return parsed.value;
  ctx.addIssue({ code: 'custom', message: `${parsed.error} (an ISO-8601 time such as 2026-01-05T00:00:00Z)` });
  return z.NEVER;
});

/** Flags as strings, checked and turned into the importer's options (which check the rest). */
const ArgsSchema = z.object({
  input: z.string().min(1, 'give a CSV file or a folder of CSV files'),
  delimiter: DelimiterArg.optional(),
  'decimal-comma': z.boolean().optional(),
  'time-column': z.string().optional(),
  'time-unit': z.enum(['s', 'ms']).optional(),
  'time-origin': TimeOriginArg.optional(),
  'run-gap': z.coerce.number().nonnegative().optional(),
  exclude: z.array(z.string()).optional(),
  'label-column': z.string().optional(),
  label: z.enum(['0', '1']).transform((v) => (v === '1' ? 1 : 0) as 0 | 1).optional(),
  'fault-column': z.string().optional(),
  'station-column': z.string().optional(),
  'recipe-column': z.string().optional(),
  'step-column': z.string().optional(),
  'lot-column': z.string().optional(),
  'wafer-column': z.string().optional(),
  'run-column': z.string().optional(),
  line: z.string().optional(),
  station: z.string().optional(),
  type: z.string().optional(),
  recipe: z.string().optional(),
  out: z.string().optional(),
  'skip-bad-rows': z.boolean().optional(),
  'allow-missing': z.boolean().optional(),
});

/** Parses argv into importer options; throws one Error listing every problem. */
export function parseImportArgs(argv: string[]): { input: string; options: ImportOptionsInput } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: FLAG_OPTIONS,
    });
  } catch (err) {
    throw new Error(`import: ${(err as Error).message}\n${USAGE}`, { cause: err });
  }
  if (parsed.values.help) return 'help';
  if (parsed.positionals.length > 1) throw new Error(`import: one input only, got ${parsed.positionals.join(' ')}\n${USAGE}`);
  const exclude = (parsed.values.exclude as string[] | undefined)?.flatMap((v) => v.split(',')).filter((v) => v.trim() !== '');
  const args = ArgsSchema.safeParse({ ...parsed.values, exclude, input: parsed.positionals[0] ?? '' });
  if (!args.success) {
    throw new Error(`import: ${args.error.issues.map((i) => `${i.path.length > 0 ? `--${i.path.join('.')}: ` : ''}${i.message}`).join('; ')}\n${USAGE}`);
  }
  const a = args.data;
  const options: ImportOptionsInput = {
    delimiter: a.delimiter, decimalComma: a['decimal-comma'], timeColumn: a['time-column'], timeUnit: a['time-unit'],
    timeOrigin: a['time-origin'], runGapS: a['run-gap'], exclude: a.exclude, labelColumn: a['label-column'], label: a.label,
    faultColumn: a['fault-column'], stationColumn: a['station-column'], recipeColumn: a['recipe-column'], stepColumn: a['step-column'],
    lotColumn: a['lot-column'], waferColumn: a['wafer-column'], runColumn: a['run-column'], line: a.line, station: a.station,
    type: a.type, recipe: a.recipe, out: a.out, skipBadRows: a['skip-bad-rows'], allowMissing: a['allow-missing'],
  };
  // Unset flags stay unset, so the importer's defaults apply.
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ImportOptionsInput;
  return { input: a.input, options: defined };
}

