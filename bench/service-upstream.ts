/**
 * The upstream call of the baselines that use the service's own Node upstream client
 * (hono-baseline.ts, client-baseline.ts): the token endpoint of ACCOUNTS_URL with Basic auth of
 * CLIENT_ID and CLIENT_SECRET, as the service calls it, and nothing else.
 */
import { createNodeUpstream } from '../src/runtimes/node/upstream-client.js';
import { basicAuthorization } from '../src/server/upstream/token-request.js';

export interface TokenAnswer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * The call, from the environment; a process without it says so and exits 2. `timeoutMs`: the
 * service's default upstream timeout unless a measurement holds calls longer (bench/in-flight.ts).
 */
export function serviceTokenCall(name: string, timeoutMs = 10_000): (form: string) => Promise<TokenAnswer> {
  const { ACCOUNTS_URL, CLIENT_ID, CLIENT_SECRET } = process.env;
  if (!ACCOUNTS_URL || !CLIENT_ID || !CLIENT_SECRET) {
    process.stderr.write(`${name}: ACCOUNTS_URL, CLIENT_ID and CLIENT_SECRET are required\n`);
    process.exit(2);
  }
  const upstream = createNodeUpstream();
  const tokenEndpoint = `${ACCOUNTS_URL}/api/token`;
  const headers = {
    Authorization: basicAuthorization(CLIENT_ID, CLIENT_SECRET),
    'Content-Type': 'application/x-www-form-urlencoded',
  };
  return async (form) => {
    const answer = await upstream.fetch(tokenEndpoint, {
      method: 'POST',
      headers,
      body: form,
      redirect: 'manual',
      timeoutMs,
    });
    return {
      status: answer.status,
      contentType: answer.headers.get('content-type') ?? 'text/plain',
      body: await answer.text(),
    };
  };
}
