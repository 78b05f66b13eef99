/**
 * `npm run import -- FILE|FOLDER [options]`: turns a plant's CSV (or a folder of them) into linewatch recordings.
 * See docs/import.md.
 *
 * @example
 * npm run import -- ../shared/data/lam9600/normal.csv --run-column wafer --wafer-column wafer --time-column time \
 *   --time-origin 2026-01-05T00:00:00Z --step-column step --exclude t --line lam9600 --station etch-01 --type etch \
 *   --recipe LAM9600-AL --label 0 --out recordings/lam9600/normal
 */
import { parseImportArgs, USAGE } from './args.js';
import { importCsv } from './import-csv.js';
import { formatFileResult, formatRowError } from './report.js';

async function main(): Promise<void> {
  const args = parseImportArgs(process.argv.slice(2));
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const result = await importCsv(args.input, args.options, {
    onBadRow: args.options.skipBadRows ? (path, error) => process.stderr.write(`${formatRowError(path, error)}\n`) : undefined,
  });
  for (const file of result.files) process.stdout.write(`${formatFileResult(file, result.options).join('\n')}\n`);
  const failed = result.files.filter((f) => !f.ok).length;
  if (failed > 0) {
    process.stderr.write(`import: ${failed} of ${result.files.length} file${result.files.length === 1 ? '' : 's'} failed\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
