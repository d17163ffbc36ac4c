/**
 * `token-swap serve --sandbox` with API_PROXY_PATHS: the proxy sends its calls to the embedded
 * sandbox's own Web API (SPOTIFY_API_URL would otherwise be api.spotify.com), so a page can try the
 * backend-for-frontend without a Spotify app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_CLIENT_ID, SANDBOX_DEFAULT_REDIRECT_URIS } from '../src/sandbox/index.js';
import { type CliRun, runCli } from './helpers/cli.js';
import { authorize } from './helpers/stack.js';

let run: CliRun;
let url = '';
beforeAll(async () => {
  run = runCli(['serve', '--sandbox', '--port', '0', '--auto-approve'], {
    env: { API_PROXY_PATHS: 'GET /v1/me' },
  });
  const [, found = ''] = await run.waitFor(/Swap service\s+(http:\/\/\S+)/, 20_000);
  url = found.replace(/\/$/, '');
}, 30_000);
afterAll(async () => {
  run?.child.kill('SIGTERM');
  await run?.exited;
});

describe('serve --sandbox with API_PROXY_PATHS', () => {
  it("forwards an allowed call to the sandbox's Web API", async () => {
    const redirectUri = SANDBOX_DEFAULT_REDIRECT_URIS[0] ?? '';
    const { code } = await authorize(`${url}/sandbox`, {
      client_id: SANDBOX_CLIENT_ID,
      redirect_uri: redirectUri,
    });
    const own = { Origin: new URL(url).origin, 'X-CSRF': '1' };
    const swapped = await fetch(`${url}/session/swap`, {
      method: 'POST',
      headers: own,
      body: new URLSearchParams({ code, redirect_uri: redirectUri }),
    });
    expect(swapped.status).toBe(200);
    const cookie = swapped.headers.getSetCookie()[0]?.split(';', 1)[0] ?? '';
    const me = await fetch(`${url}/spotify/v1/me`, { headers: { ...own, Cookie: cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ type: 'user' });
    const stats = (await (await fetch(`${url}/sandbox/__sandbox/stats`)).json()) as {
      webApiRequests: number;
    };
    expect(stats.webApiRequests).toBe(1);
  });
});
