import { IdSchema } from '@linewatch/protocol';
import { z } from 'zod';
import { DELIMITERS } from './csv-parser.js';

const column = z.string().trim().min(1);

/**
 * What `importCsv` needs to know about a CSV beyond what it can find out itself. Column options name a header
 * (exact, else the one header that matches ignoring case).
 */
export const ImportOptionsSchema = z
  .object({
    /** Field separator; detected from the file's start when unset. */
    delimiter: z.enum(DELIMITERS).optional(),
    /** Numbers use a decimal comma (`1,5`), as European exports separated by `;` do. */
    decimalComma: z.boolean().default(false),
    /** Timestamp column; default: the one column named ts, time, timestamp, datetime or date (any case). */
    timeColumn: column.optional(),
    /** Unit of numeric times; default: ms from 1e11 up, seconds below. */
    timeUnit: z.enum(['s', 'ms']).optional(),
    /** Epoch ms that numeric (relative) times count from; runs are laid out one after another from here. */
    timeOrigin: z.number().int().nonnegative().optional(),
    /** Seconds between one run's last sample and the next run's time 0, when `timeOrigin` lays runs out. */
    runGapS: z.number().nonnegative().max(86_400 * 365).default(60),
    /** Columns that are neither sensors nor mapped (a sample index, an operator's note). */
    exclude: z.array(column).default([]),
    /** Column of point labels (0/1, 0.0/1.0, true/false): ground truth for a backtest. */
    labelColumn: column.optional(),
    /** One label for every row, for a file known to be all normal (0) or all faulty (1). */
    label: z.union([z.literal(0), z.literal(1)]).optional(),
    /** Column naming the fault of a row (the entry's `fault`). */
    faultColumn: column.optional(),
    stationColumn: column.optional(),
    recipeColumn: column.optional(),
    stepColumn: column.optional(),
    lotColumn: column.optional(),
    waferColumn: column.optional(),
    /** Column whose value splits the file into one recording per run (a wafer id); rows of a run are contiguous. */
    runColumn: column.optional(),
    /** Line id of every station. */
    line: IdSchema.default('plant'),
    /** Station id when there is no station column. */
    station: IdSchema.default('station-01'),
    /** Station type for the meta message; default: the station id without a trailing `-NN`. */
    type: IdSchema.optional(),
    /** Recipe of every row when there is no recipe column. */
    recipe: z.string().min(1).max(64).optional(),
    /** Output folder. */
    out: z.string().min(1).default('recordings'),
    /** Write the good rows of a file with bad rows (each bad row is still reported) instead of failing it. */
    skipBadRows: z.boolean().default(false),
    /** An empty sensor cell leaves that sensor out of the snapshot (counted) instead of failing the row. */
    allowMissing: z.boolean().default(false),
  })
  .strict()
  .superRefine((o, ctx) => {
    const conflict = (message: string) => ctx.addIssue({ code: 'custom', message });
    if (o.label !== undefined && o.labelColumn !== undefined) conflict('give --label or --label-column, not both');
    if (o.recipe !== undefined && o.recipeColumn !== undefined) conflict('give --recipe or --recipe-column, not both');
    // Time, label and fault each need a column of their own; context columns may share one (run and wafer).
    const own = { time: o.timeColumn, label: o.labelColumn, fault: o.faultColumn };
    const shared = [o.stationColumn, o.recipeColumn, o.stepColumn, o.lotColumn, o.waferColumn, o.runColumn];
    const named = [...Object.values(own), ...shared].filter((c) => c !== undefined);
    for (const [role, name] of Object.entries(own)) {
      if (name !== undefined && named.filter((c) => c === name).length > 1) conflict(`column '${name}' is the ${role} column and has another role`);
    }
    for (const name of o.exclude) {
      if (named.includes(name)) conflict(`column '${name}' is both excluded and mapped`);
    }
  });
export type ImportOptions = z.infer<typeof ImportOptionsSchema>;
export type ImportOptionsInput = z.input<typeof ImportOptionsSchema>;
