import { afterEach, describe, expect, it } from 'vitest';
import { metric } from './helpers/metrics.js';
import { authorize, postForm, type Stack, startStack, UNSEALED } from './helpers/stack.js';

const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

describe('GET /metrics', () => {
  it('exposes requests, latency, upstream outcomes and process metrics in Prometheus text format', async () => {
    const stack = await startStack({ env: UNSEALED });
    stacks.push(stack);
    const { code } = await authorize(stack.accounts.url);
    await postForm(`${stack.service.url}/swap`, { code });
    await postForm(`${stack.service.url}/refresh`, { refresh_token: 'AQunknown' });
    await fetch(`${stack.service.url}/no/such/path/with-a-secret-AQxyz`);
    const response = await fetch(`${stack.service.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const name of [
      'token_swap_http_request_duration_seconds_bucket',
      'token_swap_upstream_request_duration_seconds_bucket',
      'token_swap_process_resident_memory_bytes',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toContain(`token_swap_circuit_breaker_state{upstream="${stack.accounts.url}"} 0`);
    expect(text).not.toContain('AQxyz');
    expect(await metric(stack, 'token_swap_http_requests_total', { route: '/swap', status: '200' })).toBe(1);
    expect(await metric(stack, 'token_swap_http_requests_total', { route: 'unmatched', status: '404' })).toBe(
      1,
    );
    expect(
      await metric(stack, 'token_swap_upstream_requests_total', {
        grant: 'authorization_code',
        outcome: 'ok',
      }),
    ).toBe(1);
    expect(
      await metric(stack, 'token_swap_upstream_requests_total', {
        grant: 'refresh_token',
        outcome: 'oauth_error',
      }),
    ).toBe(1);
  });

  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    const token = 'metrics-token-0123456789';
    const stack = await startStack({ env: { METRICS_TOKEN: token } });
    stacks.push(stack);
    const anonymous = await fetch(`${stack.service.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(await anonymous.json()).toMatchObject({ error: 'invalid_token' });
    expect(
      (await fetch(`${stack.service.url}/metrics`, { headers: { Authorization: 'Bearer nope' } })).status,
    ).toBe(401);
    const allowed = await fetch(`${stack.service.url}/metrics`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(allowed.status).toBe(200);
  });
});
