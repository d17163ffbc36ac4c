/**
 * Fuzzing the other two peers: the sandbox's routes over a real socket (people do expose sandboxes:
 * whatever comes in, no 5xx, no stack trace, and it keeps answering), and the client kit's reading of
 * a swap service's answers (random statuses, headers and bodies: never a crash, never a token taken
 * from a malformed answer). Reproducible: fixed seed unless FUZZ_SEED is set; FUZZ_RUNS scales.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processSwapResponse, SwapServiceError } from '../src/client/index.js';
import { createSandbox, type Sandbox } from '../src/sandbox/index.js';
import { MAX_EXPIRES_IN_SECONDS } from '../src/shared/token-response.js';
import {
  bodyBytes,
  contentType,
  formBody,
  headers,
  jsonBody,
  method,
  rawBody,
} from './helpers/fuzz-arbitraries.js';
import { type Listening, listen } from './helpers/listen.js';
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } from './helpers/stack.js';

const SEED = Number(process.env.FUZZ_SEED || 0x5eed_5a4d);
const SCALE = Number(process.env.FUZZ_RUNS || 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const STACK_TRACE = /\bat\s[^\n]*\.(?:[cm]?js|[cm]?ts):\d|node:internal/;

const SANDBOX_PATHS = [
  '/authorize',
  '/api/token',
  '/v1/me',
  '/__sandbox/faults',
  '/__sandbox/stats',
  '/__sandbox/reset',
  '/__sandbox/mint',
  '/nowhere',
] as const;

describe('fuzzing the sandbox', () => {
  let sandbox: Sandbox;
  let server: Listening;
  beforeAll(async () => {
    sandbox = createSandbox({
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
      maxRecordsPerKind: 1_000,
    });
    server = await listen(sandbox.app.fetch);
  });
  // A random body can be a valid fault: it must not leak into the next run.
  afterEach(() => sandbox.reset());
  afterAll(() => server.close());

  it('answers anything on its routes without a 5xx or a stack trace, and keeps answering', async () => {
    const request = fc.record({
      method,
      path: fc
        .tuple(fc.constantFrom(...SANDBOX_PATHS), fc.string({ maxLength: 40 }))
        .map(([p, q]) => `${p}?${q}`),
      headers: headers(contentType),
      body: fc.oneof(formBody, jsonBody, rawBody),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ method: verb, path, headers: sent, body }) => {
        sandbox.reset();
        const effective = /^(GET|HEAD)$/i.test(verb) ? verb.toUpperCase() : verb;
        const response = await fetch(`${server.url}${path}`, {
          method: effective,
          headers: sent,
          body: effective === 'GET' || effective === 'HEAD' ? undefined : bodyBytes(body),
          redirect: 'manual',
        }).catch((error: unknown) => error);
        // fetch itself refuses some methods and header values before anything is sent.
        if (!(response instanceof Response)) return;
        const text = await response.text();
        expect(response.status, `${verb} ${path}: ${text.slice(0, 200)}`).toBeLessThan(500);
        expect(text).not.toMatch(STACK_TRACE);
      }),
      { seed: SEED, numRuns: runs(400) },
    );
    expect((await fetch(`${server.url}/__sandbox/stats`)).status).toBe(200);
  }, 120_000);
});

describe('fuzzing the client kit against a broken swap service', () => {
  const TOKEN = /^[\x21-\x7e]+$/;
  const status = fc.oneof(
    fc.constantFrom(200, 201, 204, 302, 307, 400, 401, 429, 500, 502, 503),
    fc.integer({ min: 200, max: 599 }),
  );
  const tokenish = fc.oneof(
    fc.string(),
    fc.constant(''),
    fc.constant('BQvalid-token'),
    fc.string({ unit: 'binary' }),
  );
  const answerBody = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc
      .record(
        {
          access_token: fc.oneof(tokenish, fc.jsonValue()),
          token_type: fc.oneof(tokenish, fc.jsonValue()),
          expires_in: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(1e306), fc.constant(3600)),
          scope: fc.oneof(tokenish, fc.jsonValue()),
          refresh_token: fc.oneof(tokenish, fc.jsonValue()),
          error: fc.oneof(tokenish, fc.jsonValue()),
          error_description: fc.oneof(tokenish, fc.jsonValue()),
        },
        { requiredKeys: [] },
      )
      .map((record) => JSON.stringify(record)),
  );
  const answerHeaders = fc.dictionary(
    fc.constantFrom('content-type', 'retry-after', 'content-length', 'location', 'x-anything'),
    fc.string({ maxLength: 30 }).filter((value) => /^[\x20-\x7e]*$/.test(value)),
  );

  it('never crashes, and takes tokens only from a well-formed answer', async () => {
    await fc.assert(
      fc.asyncProperty(status, answerHeaders, answerBody, async (code, sent, body) => {
        let response: Response;
        try {
          const bodyless = code === 204 || code === 205 || code === 304;
          response = new Response(bodyless ? null : body, { status: code, headers: sent });
        } catch {
          return; // A header the Fetch API itself refuses: no answer to read.
        }
        try {
          const tokens = await processSwapResponse(response);
          expect(code).toBeGreaterThanOrEqual(200);
          expect(code).toBeLessThan(300);
          expect(tokens.access_token).toMatch(TOKEN);
          expect(Number.isInteger(tokens.expires_in)).toBe(true);
          expect(tokens.expires_in).toBeLessThanOrEqual(MAX_EXPIRES_IN_SECONDS);
          if (tokens.refresh_token !== undefined) expect(tokens.refresh_token).toMatch(TOKEN);
          expect(tokens.scope).toMatch(/^[\x20-\x7e]*$/);
        } catch (error) {
          expect(error).toBeInstanceOf(SwapServiceError);
          const { error: code, errorDescription } = error as SwapServiceError;
          expect(code).toMatch(/^[\x20-\x7e]+$/);
          // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
          expect(errorDescription ?? '').not.toMatch(/[\x00-\x1f\x7f]/);
        }
      }),
      { seed: SEED, numRuns: runs(3_000) },
    );
  });
});
