import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers/stack.js';

const ALLOWED = 'https://app.example.com';
let stack: Stack;
let open: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { CORS_ORIGINS: `${ALLOWED},http://127.0.0.1:5173` } });
  open = await startStack({});
});
afterAll(async () => {
  await stack.close();
  await open.close();
});

function preflight(url: string, origin: string) {
  return fetch(`${url}/swap`, {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type',
    },
  });
}

describe('CORS', () => {
  it('answers a listed origin preflight with 204 and the CORS headers', async () => {
    const response = await preflight(stack.service.url, ALLOWED);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    expect(response.headers.get('vary')).toContain('Origin');
  });

  it('refuses an unlisted origin preflight with JSON 403 and no Allow-Origin', async () => {
    const response = await preflight(stack.service.url, 'https://evil.example.com');
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'This origin is not allowed',
    });
  });

  it('adds Allow-Origin to actual responses for listed origins only, and exposes Retry-After', async () => {
    const allowed = await fetch(`${stack.service.url}/swap`, {
      method: 'POST',
      headers: { Origin: ALLOWED, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(allowed.status).toBe(400);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-expose-headers')).toContain('Retry-After');

    const denied = await fetch(`${stack.service.url}/swap`, {
      method: 'POST',
      headers: { Origin: 'https://evil.example.com', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends no CORS headers at all when CORS_ORIGINS is empty (the default)', async () => {
    const response = await preflight(open.service.url, ALLOWED);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.status).toBe(405);
  });
});
