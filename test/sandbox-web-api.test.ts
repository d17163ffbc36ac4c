/**
 * The sandbox's Web API beyond /v1/me (src/sandbox/web-api-player.ts): the shapes of Spotify's
 * player and top tracks, the Bearer and scope checks /v1/me has, and what the stats show of the
 * requests that reached it (header names only), which the proxy tests read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebApiRequestSummary } from '../src/sandbox/index.js';
import { authorize, postForm, REDIRECT_URI, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

async function accessToken(scope: string): Promise<string> {
  const { code } = await authorize(stack.accounts.url, { scope });
  const response = await postForm(`${stack.service.url}/swap`, { code, redirect_uri: REDIRECT_URI });
  return ((await response.json()) as { access_token: string }).access_token;
}

const call = (path: string, token: string | undefined, init: RequestInit = {}) =>
  fetch(`${stack.accounts.url}${path}`, {
    ...init,
    headers: { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), ...init.headers },
  });

describe('GET /v1/me/player', () => {
  it('is 401 without a valid Bearer token and 403 without user-read-playback-state', async () => {
    expect((await call('/v1/me/player', undefined)).status).toBe(401);
    expect((await call('/v1/me/player', 'not-a-token')).status).toBe(401);
    const denied = await call('/v1/me/player', await accessToken('user-read-email'));
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({ error: { status: 403, message: 'Insufficient client scope' } });
  });

  it('is 204 with no body while nothing plays, the playback state once something does', async () => {
    const token = await accessToken('user-read-playback-state user-modify-playback-state');
    const idle = await call('/v1/me/player', token);
    expect(idle.status).toBe(204);
    expect(await idle.text()).toBe('');
    const put = (query: string, body?: unknown) =>
      call(`/v1/me/player/play${query}`, token, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect(await (await put('')).json()).toEqual({
      error: {
        status: 404,
        message: 'Player command failed: No active device found',
        reason: 'NO_ACTIVE_DEVICE',
      },
    });
    expect((await put('?device_id=elsewhere')).status).toBe(404);
    expect((await put('?device_id=sandbox-device-0001', { uris: ['spotify:track:nope'] })).status).toBe(400);
    expect(
      (await put('?device_id=sandbox-device-0001', { uris: ['spotify:track:0sandboxtrack000000002'] }))
        .status,
    ).toBe(204);
    const state = (await (await call('/v1/me/player', token)).json()) as Record<string, unknown>;
    expect(state).toMatchObject({
      device: { id: 'sandbox-device-0001', is_active: true, type: 'Speaker' },
      repeat_state: 'off',
      shuffle_state: false,
      is_playing: true,
      currently_playing_type: 'track',
      item: { type: 'track', uri: 'spotify:track:0sandboxtrack000000002', duration_ms: expect.any(Number) },
    });
    expect(state.progress_ms).toEqual(expect.any(Number));
    // Now a device is active: a play without device_id resumes there.
    expect((await put('')).status).toBe(204);
  });
});

describe('GET /v1/me/top/tracks', () => {
  it("pages through the catalog as Spotify's paging object, and checks its parameters", async () => {
    const token = await accessToken('user-top-read');
    const page = (await (await call('/v1/me/top/tracks?limit=2&offset=2', token)).json()) as Record<
      string,
      unknown
    >;
    expect(page).toMatchObject({
      limit: 2,
      offset: 2,
      total: 5,
      next: 'https://api.spotify.com/v1/me/top/tracks?limit=2&offset=4',
      previous: 'https://api.spotify.com/v1/me/top/tracks?limit=2&offset=0',
    });
    expect(page.items).toHaveLength(2);
    for (const query of ['limit=0', 'limit=51', 'offset=-1', 'time_range=forever']) {
      expect((await call(`/v1/me/top/tracks?${query}`, token)).status, query).toBe(400);
    }
    expect((await call('/v1/me/top/tracks', await accessToken('user-read-email'))).status).toBe(403);
  });
});

describe('stats', () => {
  it('show the method, path, header names and query parameter names of the last Web API request', async () => {
    const token = await accessToken('user-top-read');
    await call('/v1/me/top/tracks?limit=1', token, { headers: { Cookie: 'a=b', 'Accept-Language': 'sv' } });
    const stats = (await (await fetch(`${stack.accounts.url}/__sandbox/stats`)).json()) as {
      webApiRequests: number;
      lastWebApiRequest: WebApiRequestSummary;
    };
    expect(stats.webApiRequests).toBeGreaterThan(0);
    expect(stats.lastWebApiRequest).toMatchObject({
      method: 'GET',
      path: '/v1/me/top/tracks',
      queryParams: ['limit'],
    });
    expect(stats.lastWebApiRequest.headerNames).toEqual(
      expect.arrayContaining(['accept-language', 'authorization', 'cookie']),
    );
    expect(JSON.stringify(stats)).not.toContain(token);
  });
});
