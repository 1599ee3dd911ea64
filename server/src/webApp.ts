/**
 * The patient web app (web/, built by `npm run build -w web` into web/dist)
 * served by the gateway at /app/: the same origin as /graphql and /fhir, so
 * the browser needs no CORS and the pages can have a strict
 * Content-Security-Policy (scripts, styles and requests from the gateway
 * itself only). The files are read once at start; they are text (HTML, JS,
 * CSS, SVG).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RouteHandler } from '@portal/kit';

export const WEB_APP_PATH = '/app/';
/** web/dist beside server/ (from server/src in development and server/dist once built). */
export const DEFAULT_WEB_APP_DIR = path.resolve(__dirname, '../../web/dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** The app's pages: nothing from elsewhere, no inline script, no framing, requests to this origin only. */
export const WEB_APP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function filesOf(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesOf(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}

/**
 * GET routes for every file of `dir` under /app/, and /app and /app/ for its
 * index.html. Without a build there, /app/ says how to make one.
 */
export function webAppRoutes(dir: string = DEFAULT_WEB_APP_DIR): Record<string, RouteHandler> {
  const index = path.join(dir, 'index.html');
  if (!fs.existsSync(index)) {
    const missing: RouteHandler = async () => ({ status: 404, body: 'The web app is not built: run `npm run build -w web`, then start again.' });
    return { 'GET /app': missing, [`GET ${WEB_APP_PATH}`]: missing };
  }
  const routes: Record<string, RouteHandler> = {};
  for (const file of filesOf(dir)) {
    const type = TYPES[path.extname(file)];
    if (!type) continue;
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    // Vite names its assets by content hash: they never change, so browsers may keep them. The page itself is never cached.
    const cache = file.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-store';
    const headers = { 'content-type': type, 'cache-control': cache, 'content-security-policy': WEB_APP_CSP };
    routes[`GET ${WEB_APP_PATH}${file}`] = async () => ({ status: 200, body: text, headers });
  }
  routes['GET /app'] = async () => ({ status: 308, body: '', headers: { location: WEB_APP_PATH } });
  routes[`GET ${WEB_APP_PATH}`] = routes[`GET ${WEB_APP_PATH}index.html`];
  return routes;
}
