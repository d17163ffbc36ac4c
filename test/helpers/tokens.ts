/** The token endpoints as a client calls them, over the service's socket, for the login-lifecycle tests. */
import { authorize, REDIRECT_URI, type Stack } from './stack.js';

export interface Answered {
  status: number;
  body: Record<string, unknown>;
}

async function post(url: string, form: Record<string, string>): Promise<Answered> {
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(form) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A new login: the sandbox's authorize step, then `POST /swap`. */
export async function login(stack: Stack, prefix = ''): Promise<Answered & { refreshToken: string }> {
  const { code } = await authorize(stack.accounts.url);
  const answered = await post(`${stack.service.url}${prefix}/swap`, { code, redirect_uri: REDIRECT_URI });
  if (answered.status !== 200) throw new Error(`swap answered ${answered.status}`);
  return { ...answered, refreshToken: String(answered.body.refresh_token) };
}

export function refresh(stack: Stack, refreshToken: string, prefix = ''): Promise<Answered> {
  return post(`${stack.service.url}${prefix}/refresh`, { refresh_token: refreshToken });
}

export function revoke(stack: Stack, token: string, prefix = ''): Promise<Answered> {
  return post(`${stack.service.url}${prefix}/revoke`, { token });
}

export const DAY_MS = 86_400_000;

/**
 * A clock the test moves: the service reads it for lifetimes, idle limits and the reuse grace. It
 * starts on a whole second, as the authorization time a token carries is kept in whole seconds (so
 * the countdowns the tests check are exact).
 */
export function testClock(start = Math.floor(Date.now() / 1000) * 1000): {
  now: () => number;
  advance(ms: number): void;
} {
  let at = start;
  return {
    now: () => at,
    advance(ms) {
      at += ms;
    },
  };
}
