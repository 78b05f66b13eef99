import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';

/** Paths that belong to the API, never to the single-page app. */
const API_PREFIXES = ['/api/', '/socket.io/', '/metrics', '/healthz', '/readyz'];

/**
 * Serves the built dashboard with an SPA fallback. When it has not been built yet, the page says how
 * to build it instead of a bare 404, so a first run explains itself.
 */
export function dashboardFiles(dir: string): Router {
  const router = Router();
  const index = path.join(dir, 'index.html');
  router.use(express.static(dir, { index: false, maxAge: '1h', fallthrough: true }));
  router.get(/.*/, (req, res, next) => {
    if (API_PREFIXES.some((p) => req.path.startsWith(p))) {
      next();
      return;
    }
    if (!existsSync(index)) {
      res
        .status(503)
        .type('text/plain')
        .send(`The dashboard is not built (no ${index}). Run \`npm run build\` in the repo root, then reload.\n`);
      return;
    }
    // index.html must not be cached, or a rebuilt dashboard would load stale asset names.
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
