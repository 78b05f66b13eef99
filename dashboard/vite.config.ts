import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The API (services/api) serves dist/ in production; in dev, Vite proxies the API and the live feed to it. */
const API = 'http://127.0.0.1:8080';

export default defineConfig({
  // Resolve from this file, so `vite build` works from any working directory.
  root: fileURLToPath(new URL('.', import.meta.url)),
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': API,
      '/socket.io': { target: API, ws: true },
    },
  },
});
