/**
 * `token-swap serve --sandbox` and the Web API proxy: the proxy sends its calls to the embedded
 * sandbox's own Web API (SPOTIFY_API_URL would otherwise be api.spotify.com), so a page can try the
 * backend-for-frontend without a Spotify app; without API_PROXY_PATHS, sandbox mode allows a default
 * list, says so at start-up, and the demo shows its proxy tab.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_CLIENT_ID, SANDBOX_DEFAULT_REDIRECT_URIS } from '../src/sandbox/index.js';
import { type CliRun, runCli } from './helpers/cli.js';
import { authorize } from './helpers/stack.js';

let run: CliRun;
let url = '';
let bare: CliRun;
let bareUrl = '';
const serviceUrl = async (cli: CliRun) =>
  ((await cli.waitFor(/Swap service\s+(http:\/\/\S+)/, 20_000))[1] ?? '').replace(/\/$/, '');
beforeAll(async () => {
  run = runCli(['serve', '--sandbox', '--port', '0', '--auto-approve'], {
    env: { API_PROXY_PATHS: 'GET /v1/me' },
  });
  bare = runCli(['serve', '--sandbox', '--port', '0', '--auto-approve']);
  [url, bareUrl] = await Promise.all([serviceUrl(run), serviceUrl(bare)]);
}, 30_000);
afterAll(async () => {
  for (const cli of [run, bare]) cli?.child.kill('SIGTERM');
  await Promise.all([run?.exited, bare?.exited]);
});

/** A login through /session/swap on the service's own origin: the cookie to send, and the headers. */
async function signIn(
  base: string,
  scope?: string,
): Promise<{ cookie: string; own: Record<string, string> }> {
  const redirectUri = SANDBOX_DEFAULT_REDIRECT_URIS[0] ?? '';
  const { code } = await authorize(`${base}/sandbox`, {
    client_id: SANDBOX_CLIENT_ID,
    redirect_uri: redirectUri,
    ...(scope === undefined ? {} : { scope }),
  });
  const own = { Origin: new URL(base).origin, 'X-CSRF': '1' };
  const swapped = await fetch(`${base}/session/swap`, {
    method: 'POST',
    headers: own,
    body: new URLSearchParams({ code, redirect_uri: redirectUri }),
  });
  expect(swapped.status).toBe(200);
  return { cookie: swapped.headers.getSetCookie()[0]?.split(';', 1)[0] ?? '', own };
}

describe('serve --sandbox with API_PROXY_PATHS', () => {
  it("forwards an allowed call to the sandbox's Web API", async () => {
    const { cookie, own } = await signIn(url);
    const me = await fetch(`${url}/spotify/v1/me`, { headers: { ...own, Cookie: cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ type: 'user' });
    const stats = (await (await fetch(`${url}/sandbox/__sandbox/stats`)).json()) as {
      webApiRequests: number;
    };
    expect(stats.webApiRequests).toBe(1);
  });
});

describe('serve --sandbox without API_PROXY_PATHS', () => {
  it('allows GET /v1/me, /v1/me/player and /v1/me/top/tracks, and nothing else', async () => {
    const { cookie, own } = await signIn(
      bareUrl,
      'user-read-email user-read-private user-read-playback-state user-top-read',
    );
    const get = (path: string) => fetch(`${bareUrl}/spotify${path}`, { headers: { ...own, Cookie: cookie } });
    expect((await get('/v1/me')).status).toBe(200);
    // The sandbox's player: nothing playing yet, which Spotify answers 204.
    expect((await get('/v1/me/player')).status).toBe(204);
    const top = await get('/v1/me/top/tracks?limit=2');
    expect(top.status).toBe(200);
    expect(((await top.json()) as { items: unknown[] }).items).toHaveLength(2);
    const off = await get('/v1/me/following?type=artist');
    expect([off.status, ((await off.json()) as { error: string }).error]).toEqual([403, 'path_not_allowed']);
  });

  it('says at start-up that the default list is on, and the demo page shows its proxy tab', async () => {
    const notice = bare
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; allow?: unknown })
      .find((line) => line.msg?.startsWith('sandbox mode: the Web API proxy allows these by default'));
    expect(notice?.allow).toBe('GET /v1/me, GET /v1/me/player, GET /v1/me/top/tracks');
    const page = await (await fetch(`${bareUrl}/demo`)).text();
    expect(page).toMatch(/"apiProxy":true/);
    const explicit = await (await fetch(`${url}/demo`)).text();
    expect(explicit).toMatch(/"apiProxy":true/);
  });
});
