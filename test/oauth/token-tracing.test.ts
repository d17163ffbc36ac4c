/**
 * POST /token's server span: the grant type and the app are known only once the body is read, and the
 * span carries both then, as /swap's and /refresh's carry them from the start (test/tracing.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../helpers/otlp-receiver.js';
import {
  authorize,
  CLIENT_ID,
  postForm,
  REDIRECT_URI,
  SECRET_A,
  stacksClosedAfterEach,
} from '../helpers/stack.js';

const start = stacksClosedAfterEach();
let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver();
});
afterEach(async () => {
  await receiver.close();
});

describe('traces of POST /token', () => {
  it('name the route, and carry the app and the grant type the body named', async () => {
    const stack = await start({
      env: {
        ENCRYPTION_SECRET: SECRET_A,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      },
    });
    const token = `${stack.service.url}/token`;
    const { code } = await authorize(stack.accounts.url);
    const exchanged = await postForm(token, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
    });
    const { refresh_token } = (await exchanged.json()) as { refresh_token: string };
    expect(
      (await postForm(token, { grant_type: 'refresh_token', refresh_token, client_id: CLIENT_ID })).status,
    ).toBe(200);
    expect((await postForm(token, { grant_type: 'password', client_id: CLIENT_ID })).status).toBe(400);

    await stack.node.tracing?.flush();
    const spans = receiver.spans().filter((span) => span.name === 'POST /token');
    expect(
      spans.map((span) => [
        span.attributes['token_swap.grant_type'],
        span.attributes['http.response.status_code'],
      ]),
    ).toEqual([
      ['authorization_code', 200],
      ['refresh_token', 200],
      // Refused before the grant was known: no grant type is claimed.
      [undefined, 400],
    ]);
    // The client id named the app before the grant type was read: every span has it.
    for (const span of spans) expect(span.attributes['token_swap.app']).toBe('default');
    const unknown = await postForm(token, {
      grant_type: 'refresh_token',
      client_id: 'nobody',
      refresh_token,
    });
    expect(unknown.status).toBe(401);
    await stack.node.tracing?.flush();
    const [last] = receiver
      .spans()
      .filter((span) => span.name === 'POST /token')
      .slice(-1);
    expect(last?.attributes['token_swap.app']).toBeUndefined();
  });
});
