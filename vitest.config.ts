import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/src/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Integration and browser tests share one Mosquitto and one InfluxDB; each uses its own line id and
    // database, but two cores are the machine, so keep file parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
