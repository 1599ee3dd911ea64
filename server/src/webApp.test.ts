import fs from 'node:fs';
import path from 'node:path';
import { removeTestDir, testTempDir } from '@portal/kit/testing';
import { WEB_APP_CSP, webAppRoutes } from './webApp';

const call = (routes: ReturnType<typeof webAppRoutes>, key: string) => routes[key](undefined as never, Buffer.alloc(0), 'req-web-test');

describe('webAppRoutes: the built web app at /app/', () => {
  let dir: string;
  beforeEach(() => {
    dir = testTempDir('portal-web-routes-');
  });
  afterEach(() => removeTestDir(dir));

  it('serves index.html at /app/ (never cached) and the hashed assets (cached for good), each under the app’s CSP', async () => {
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>x</title>');
    fs.writeFileSync(path.join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
    fs.writeFileSync(path.join(dir, 'assets', 'index-abc.css'), 'body{}');
    fs.writeFileSync(path.join(dir, 'assets', 'photo.png'), Buffer.from([0x89, 0x50]));
    const routes = webAppRoutes(dir);

    const page = await call(routes, 'GET /app/');
    expect(page).toEqual({ status: 200, body: '<!doctype html><title>x</title>', headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': WEB_APP_CSP } });
    const script = await call(routes, 'GET /app/assets/index-abc.js');
    expect([script.body, script.headers?.['content-type'], script.headers?.['cache-control']]).toEqual(['console.log(1)', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
    expect((await call(routes, 'GET /app/assets/index-abc.css')).headers?.['content-type']).toBe('text/css; charset=utf-8');
    expect(await call(routes, 'GET /app')).toEqual({ status: 308, body: '', headers: { location: '/app/' } });
    // Only text files are served (a binary would not survive the route's text answer).
    expect(routes['GET /app/assets/photo.png']).toBeUndefined();
    expect(WEB_APP_CSP).toContain("script-src 'self'");
    expect(WEB_APP_CSP).not.toContain('unsafe');
  });

  it('says how to build the app when there is no build', async () => {
    const routes = webAppRoutes(path.join(dir, 'missing'));
    const res = await call(routes, 'GET /app/');
    expect(res.status).toBe(404);
    expect(res.body).toMatch(/npm run build -w web/);
  });
});
