/**
 * Property-based fuzzing of the running service over a real socket: random bodies, content types,
 * headers, methods and paths. Whatever comes in, the answer is a well-formed JSON error (or a
 * documented success), never a 5xx, never a stack trace, never a value the client sent; and the
 * process stays up.
 *
 * Runs are reproducible: the seed is fixed unless FUZZ_SEED is set, and fast-check prints the seed
 * and the shrunk request of a failure. FUZZ_RUNS scales the number of runs (default 1).
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSealer } from '../src/server/sealing/index.js';
import {
  ALLOWED_ORIGIN,
  BODY_LIMIT,
  type Body,
  bodyBytes,
  CANARY,
  chunkSize,
  contentType,
  FORM,
  type FuzzRequest,
  formBody,
  formContentType,
  headers,
  JSON_TYPE,
  jsonBody,
  jsonContentType,
  mediaType,
  method,
  path,
  query,
  rawBody,
  TOKEN_PATHS,
  tamper,
  tampering,
} from './helpers/fuzz-arbitraries.js';
import { CLIENT_ID, SECRET_A, SECRET_B, type Stack, startStack } from './helpers/stack.js';

const SEED = numberFromEnv('FUZZ_SEED', 0x5eed_f022);
const SCALE = numberFromEnv('FUZZ_RUNS', 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const TEST_TIMEOUT_MS = 60_000 * SCALE;

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) {
    throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const STACK_TRACE = /\bat\s[^\n]*\.(?:[cm]?js|[cm]?ts):\d|node:internal/;
/** Shorter sent values may legitimately appear in a fixed message (a parameter name, say). */
const MIN_TAINT_LENGTH = 16;

let stack: Stack;
let base: string;
/** A second service that seals refresh tokens. */
let sealing: Stack;
let prototypeKeys: string[];

beforeAll(async () => {
  prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  stack = await startStack({
    env: {
      RATE_LIMIT_SWAP_PER_MINUTE: '0',
      RATE_LIMIT_REFRESH_PER_MINUTE: '0',
      CORS_ORIGINS: ALLOWED_ORIGIN,
    },
  });
  base = stack.service.url;
  sealing = await startStack({
    env: {
      RATE_LIMIT_SWAP_PER_MINUTE: '0',
      RATE_LIMIT_REFRESH_PER_MINUTE: '0',
      ENCRYPTION_SECRET: SECRET_A,
    },
  });
});
afterAll(async () => {
  await stack?.close();
  await sealing?.close();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** The path as the router sees it: percent-escapes decoded, where they decode. */
function routeOf(url: URL): string {
  try {
    return decodeURI(url.pathname);
  } catch {
    return url.pathname;
  }
}

/** fetch applies these to what it sends, so the checks must too. */
function effectiveMethod(name: string): string {
  const upper = name.toUpperCase();
  return ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'].includes(upper) ? upper : name;
}
const trimHeader = (value: string) => value.replace(/^[\t ]+|[\t ]+$/g, '');

function streamOf(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

async function send(request: FuzzRequest, service = base): Promise<Answer> {
  const headers = { ...request.headers };
  const init: RequestInit & { duplex?: 'half' } = {
    method: request.method,
    headers,
    redirect: 'manual',
    // A hang is a finding too: fail this run instead of the whole test.
    signal: AbortSignal.timeout(5_000),
  };
  if (request.body !== undefined) {
    const bytes = bodyBytes(request.body);
    if (bytes.length > BODY_LIMIT) {
      // A known bug, shown by its own test below, would otherwise fail a later, innocent request on
      // the same kept-alive connection, at a time no seed reproduces: keep oversized bodies apart.
      headers.connection = 'close';
    }
    if (request.chunkSize !== undefined) {
      init.body = streamOf(bytes, request.chunkSize);
      init.duplex = 'half';
    } else {
      init.body = bytes;
    }
  }
  const response = await fetch(`${service}${request.path}`, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Every string of a parsed JSON value, keys included. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) strings(item, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      strings(item, out);
    }
  }
  return out;
}

/** What was sent, as the service sees it. */
interface Sent {
  verb: string;
  url: URL;
  route: string;
  /** Header values after fetch trimmed them. */
  requestId: string | undefined;
  origin: string | undefined;
  type: string | undefined;
  body: string | undefined;
  size: number;
}

function sentOf(request: FuzzRequest): Sent {
  const header = (name: string) => {
    const value = request.headers[name];
    return value === undefined ? undefined : trimHeader(value);
  };
  const url = new URL(`http://service.test${request.path}`);
  const bytes = request.body === undefined ? undefined : bodyBytes(request.body);
  return {
    verb: effectiveMethod(request.method),
    url,
    route: routeOf(url),
    requestId: header('x-request-id'),
    origin: header('origin'),
    type: mediaType(request.headers['content-type']),
    body: bytes === undefined ? undefined : new TextDecoder().decode(bytes),
    size: bytes?.length ?? 0,
  };
}

/** Long values the client sent (decoded as the service decodes them): none may come back. */
function taintOf(sent: Sent): string[] {
  const values: string[] = [];
  for (const segment of sent.url.pathname.split('/')) {
    values.push(segment);
    try {
      values.push(decodeURIComponent(segment));
    } catch {
      // A malformed escape stays as it is.
    }
  }
  for (const [name, value] of sent.url.searchParams) values.push(name, value);
  if (sent.requestId !== undefined) values.push(sent.requestId);
  if (sent.origin !== undefined) values.push(sent.origin);
  if (sent.body !== undefined) {
    values.push(sent.body);
    for (const [name, value] of new URLSearchParams(sent.body)) values.push(name, value);
    try {
      strings(JSON.parse(sent.body), values);
    } catch {
      // Not JSON: the form view above is what the service would see.
    }
  }
  return [...new Set(values)].filter((value) => value.length >= MIN_TAINT_LENGTH);
}

/**
 * The statuses the README's contract allows for this request, where it pins them; undefined where
 * only the general properties apply (an unknown path, or a percent-encoded one that may route).
 */
function expectedStatuses(sent: Sent): readonly number[] | undefined {
  const path = sent.url.pathname;
  if (sent.verb === 'OPTIONS') {
    // CORS answers preflights on the token endpoints only; elsewhere the general properties apply.
    if (!(TOKEN_PATHS as readonly string[]).includes(path)) return undefined;
    return sent.origin !== undefined && sent.origin !== ALLOWED_ORIGIN ? [403] : [204];
  }
  if ((TOKEN_PATHS as readonly string[]).includes(path)) {
    if (sent.verb !== 'POST') {
      return [405];
    }
    if (sent.size > BODY_LIMIT) {
      return [413];
    }
    if (sent.type === FORM || sent.type === JSON_TYPE || (sent.type === undefined && sent.size === 0)) {
      // A random code or refresh token: refused by the service, or by Spotify and passed through.
      return [400];
    }
    return [400, 415];
  }
  if (path === '/' || path === '/healthz') {
    return sent.verb === 'GET' || sent.verb === 'HEAD' ? [200] : [404, 405];
  }
  return undefined;
}

/** What an error answer's JSON must say: a string error, the right code for its status, a sane Allow. */
function errorBodyProblems(sent: Sent, answer: Answer, fields: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const fail = (problem: string) => problems.push(problem);
  if (typeof fields.error !== 'string' || fields.error === '') fail('no string error');
  if (!['string', 'undefined'].includes(typeof fields.error_description)) {
    fail('error_description not a string');
  }
  const error = {
    404: 'not_found',
    405: 'method_not_allowed',
    413: 'invalid_request',
    415: 'invalid_request',
  }[answer.status];
  if (error !== undefined && fields.error !== error) fail(`error is not ${error}`);
  if (answer.status === 405) {
    // POST on the token endpoints, GET on the read-only ones: whichever, never the method refused.
    const allow = answer.headers.get('allow')?.split(/,\s*/) ?? [];
    if (!allow.includes('POST') && !allow.includes('GET')) fail('a 405 without Allow');
    if (allow.includes(sent.verb)) fail(`a 405 whose Allow lists ${sent.verb}`);
  }
  return problems;
}

/** The status, the request id and CORS of an answer, whatever its body. */
function statusAndHeaderProblems(sent: Sent, answer: Answer): string[] {
  const problems: string[] = [];
  const fail = (problem: string) => problems.push(problem);
  if (answer.status >= 500) fail('a 5xx');
  const expected = expectedStatuses(sent);
  if (expected !== undefined && !expected.includes(answer.status)) fail(`status not in [${expected}]`);

  const id = answer.headers.get('x-request-id');
  if (id === null || !REQUEST_ID.test(id)) fail(`X-Request-Id ${JSON.stringify(id)}`);
  if (sent.requestId !== undefined && REQUEST_ID.test(sent.requestId) !== (id === sent.requestId)) {
    fail('a sane X-Request-Id is not kept, or an odd one is');
  }

  const allowOrigin = answer.headers.get('access-control-allow-origin');
  if (allowOrigin !== null && (allowOrigin !== ALLOWED_ORIGIN || sent.origin !== ALLOWED_ORIGIN)) {
    fail(`Access-Control-Allow-Origin ${JSON.stringify(allowOrigin)}`);
  }
  return problems;
}

/** Every property one answer must have; the list of those it breaks. */
function problemsOf(sent: Sent, answer: Answer): string[] {
  const problems: string[] = [];
  const fail = (problem: string) => problems.push(problem);

  problems.push(...statusAndHeaderProblems(sent, answer));

  if (STACK_TRACE.test(answer.text)) fail('a stack trace');
  if (answer.text.includes(CANARY)) fail('a code, token or verifier echoed');

  if (sent.verb === 'HEAD' || answer.status === 204) {
    if (answer.text !== '') fail('a body on a HEAD or 204');
    return problems;
  }
  // Prometheus' text format is the one non-JSON answer by design (the router decodes `/metric%73`).
  if (sent.route === '/metrics' && answer.status === 200) {
    if (!answer.headers.get('content-type')?.startsWith('text/plain')) fail('metrics not in text format');
    return problems;
  }
  if (answer.headers.get('content-type') !== 'application/json') fail('Content-Type not application/json');
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    fail('a body that is not JSON');
    return problems;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    fail('a JSON body that is not an object');
    return problems;
  }
  const fields = body as Record<string, unknown>;
  if (answer.status >= 400) problems.push(...errorBodyProblems(sent, answer, fields));
  if ((TOKEN_PATHS as readonly string[]).includes(sent.url.pathname)) {
    if (answer.headers.get('cache-control') !== 'no-store') fail('a token answer without no-store');
  }

  const answered = strings(body);
  for (const value of taintOf(sent)) {
    if (answer.text.includes(value) || answered.some((s) => s.includes(value))) {
      fail(`echoes ${JSON.stringify(value.slice(0, 80))}`);
    }
  }
  // The service runs in this process: a polluted prototype would show here.
  if (Object.getOwnPropertyNames(Object.prototype).sort().join() !== prototypeKeys.join()) {
    fail('Object.prototype changed');
  }
  return problems;
}

function check(request: FuzzRequest, answer: Answer): void {
  const sent = sentOf(request);
  const context = `${sent.verb} ${sent.url.pathname.slice(0, 100)} -> ${answer.status} ${answer.headers.get('content-type')} ${answer.text.slice(0, 300)}`;
  expect(problemsOf(sent, answer), context).toEqual([]);
}

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition() && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function fuzz(arbitrary: fc.Arbitrary<FuzzRequest>, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arbitrary, async (request) => check(request, await send(request))),
    { seed: SEED, numRuns: runs(numRuns) },
  );
}

const tokenPath = fc.constantFrom(...TOKEN_PATHS);

describe('fuzzing the running service', () => {
  it(
    'answers any body under any content type on the token endpoints with a JSON 4xx',
    () =>
      fuzz(
        fc.oneof(
          fc.record({
            method: fc.constant('POST'),
            path: tokenPath,
            headers: headers(formContentType),
            body: formBody,
            chunkSize,
          }),
          fc.record({
            method: fc.constant('POST'),
            path: tokenPath,
            headers: headers(contentType),
            body: rawBody,
            chunkSize,
          }),
        ),
        800,
      ),
    TEST_TIMEOUT_MS,
  );

  it(
    'answers any JSON document, malformed, deep, huge or in UTF-16, with a JSON 4xx',
    () =>
      fuzz(
        fc.record({
          method: fc.constant('POST'),
          path: tokenPath,
          headers: headers(jsonContentType),
          body: jsonBody,
          chunkSize,
        }),
        800,
      ),
    TEST_TIMEOUT_MS,
  );

  it(
    'answers any method on any path, with any headers and query string, in JSON',
    () =>
      fuzz(
        fc
          .record({
            method,
            path: fc.tuple(path, query).map(([p, q]) => `${p}${q}`),
            headers: headers(contentType),
            body: fc.option(formBody, { nil: undefined }),
          })
          .map((request): FuzzRequest => {
            const verb = effectiveMethod(request.method);
            // fetch refuses a body on GET and HEAD.
            const body: Body | undefined = verb === 'GET' || verb === 'HEAD' ? undefined : request.body;
            return { ...request, body };
          }),
        800,
      ),
    TEST_TIMEOUT_MS,
  );

  it(
    'refuses every tampered sealed refresh token with the one generic error, without calling Spotify',
    async () => {
      const ours = createSealer([SECRET_A], { app: 'default', clientId: CLIENT_ID });
      const otherDeployment = createSealer([SECRET_B], { app: 'default', clientId: CLIENT_ID });
      const otherApp = createSealer([SECRET_A], { app: 'default', clientId: 'another-client-id' });
      const grant = (refreshToken: string) => ({
        refreshToken,
        authTime: Math.floor(Date.now() / 1000),
        familyId: 'fuzz-family',
        generation: 0,
        issuedAt: Math.floor(Date.now() / 1000),
      });
      // `valid`: the one kind of token that may reach Spotify, intact.
      const tokens = [
        { token: await ours.seal(grant(`${CANARY}-inner-refresh-token`)), valid: true },
        { token: await ours.seal(grant(`${CANARY}-é-${'x'.repeat(900)}`)), valid: true },
        // Sealed here, but an empty refresh token is no token: refused before Spotify.
        { token: await ours.seal(grant('')), valid: false },
        { token: await otherDeployment.seal(grant(`${CANARY}-other-deployment`)), valid: false },
        { token: await otherApp.seal(grant(`${CANARY}-other-app`)), valid: false },
      ];
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            sealed: fc.constantFrom(...tokens),
            how: tampering,
            path: fc.constantFrom('/refresh', '/api/refresh_token'),
            json: fc.boolean(),
            extra: headers(fc.constant(undefined)),
          }),
          async ({ sealed, how, path, json, extra }) => {
            const token = tamper(sealed.token, how);
            const request: FuzzRequest = {
              method: 'POST',
              path,
              headers: { ...extra, 'content-type': json ? JSON_TYPE : FORM },
              body: {
                kind: 'text',
                text: json
                  ? JSON.stringify({ refresh_token: token })
                  : new URLSearchParams({ refresh_token: token }).toString(),
              },
            };
            const before = sealing.sandbox.stats().tokenRequests;
            const answer = await send(request, sealing.service.url);
            check(request, answer);
            expect(answer.status).toBe(400);
            const reachedSpotify = sealing.sandbox.stats().tokenRequests > before;
            expect(reachedSpotify, 'only an intact token of this deployment reaches Spotify').toBe(
              how.kind === 'intact' && sealed.valid,
            );
            if (!reachedSpotify) {
              const body = JSON.parse(answer.text) as Record<string, unknown>;
              // A token that is not even well formed may be refused as a malformed parameter instead.
              const generic = { error: 'invalid_grant', error_description: 'Invalid refresh token' };
              if (/^[\x21-\x7e]{1,2048}$/.test(token) || body.error !== 'invalid_request') {
                expect(body).toEqual(generic);
              }
            }
          },
        ),
        { seed: SEED, numRuns: runs(300) },
      );
    },
    TEST_TIMEOUT_MS,
  );

  /**
   * Found by the fuzzer (fetch failing with "other side closed" on a small, valid request that
   * followed a large one): after answering 413 to a body it did not read, the service keeps the
   * connection alive (no `Connection: close`) but stuck, so the next request on it gets no answer,
   * and ~500 ms later the socket is destroyed (@hono/node-server gives up draining a body that
   * hono's bodyLimit left locked and unread). A client that reuses connections (undici, browsers,
   * proxies) then fails an unrelated request. Minimal repro, on one connection: POST /swap with
   * `Content-Length: 1048576` and the body, then GET /healthz. Either fix passes: `Connection: close`
   * on the 413, or a connection that answers the next request (e.g. cancel the unread body).
   */
  it(
    'keeps the connection usable after a 413 for a large body, or closes it cleanly',
    async () => {
      const socket = connect(stack.service.port, '127.0.0.1');
      let received = '';
      let closed = false;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
      });
      socket.on('close', () => {
        closed = true;
      });
      socket.on('error', () => {
        // A reset shows up as the close.
      });
      try {
        await new Promise((resolve) => socket.once('connect', resolve));
        const size = 1024 * 1024;
        socket.write(
          `POST /swap HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${FORM}\r\nContent-Length: ${size}\r\n\r\n`,
        );
        socket.write(Buffer.alloc(size, 'A'));
        await waitFor(() => received.includes('\r\n\r\n') && received.endsWith('}'), 2_000);
        expect(received).toMatch(/^HTTP\/1\.1 413 /);
        if (/\r\nconnection: close\r\n/i.test(received)) {
          return;
        }
        received = '';
        socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        await waitFor(() => received.includes('\r\n\r\n') || closed, 2_000);
        expect(
          received.split('\r\n', 1)[0],
          `the 413 kept the connection alive, but the next request on it ${closed ? 'saw it closed' : 'got no answer'}`,
        ).toBe('HTTP/1.1 200 OK');
      } finally {
        socket.destroy();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it('is still alive and well after all of it', async () => {
    for (const service of [base, sealing.service.url]) {
      const health = await fetch(`${service}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
    }
    const logs = stack.rawLogs();
    // Values of code, refresh_token and code_verifier never reach a log line, at debug level.
    expect(logs.includes(CANARY)).toBe(false);
    expect(sealing.rawLogs().includes(CANARY)).toBe(false);
    const errors = [...stack.logs, ...sealing.logs].filter(
      (line) => typeof line.level === 'number' && line.level >= 50,
    );
    expect(errors.map((line) => line.msg)).toEqual([]);
  });
});
