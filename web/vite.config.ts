/**
 * The patient web app is served by the gateway itself at /app/ (same origin as
 * /graphql and /fhir: no CORS, a strict CSP), so the build's base is /app/.
 * `npm run dev -w web` runs Vite's dev server instead, passing /graphql and
 * /fhir on to a gateway started by `npm start` (GATEWAY_URL, default
 * http://localhost:4000).
 */
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const gateway = process.env.GATEWAY_URL ?? 'http://localhost:4000';

export default defineConfig({
  base: '/app/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, assetsInlineLimit: 0 },
  server: {
    port: 4850,
    proxy: { '/graphql': gateway, '/fhir': gateway },
  },
});
