/**
 * fast-check arbitraries for fuzzing the running swap service over a real socket (test/fuzz.test.ts).
 * A generated request is plain data, so a counterexample prints as the request to replay; bodies near
 * the size limit are recipes (`padded`, `nested`) rather than 8 KiB of text.
 */
import fc from 'fast-check';
import { MAX_BODY_BYTES } from '../../src/server/contract.js';
import { SEALED_PREFIX } from '../../src/server/sealing/index.js';
import { base64url, fromBase64url } from '../../src/shared/encoding.js';
import { REDIRECT_URI } from './stack.js';

export const BODY_LIMIT = MAX_BODY_BYTES;
export const TOKEN_PATHS = ['/swap', '/api/token', '/refresh', '/api/refresh_token'] as const;
const KNOWN_PATHS = ['/', '/healthz', '/readyz', '/metrics', ...TOKEN_PATHS] as const;
export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';
/** The one browser origin the fuzzed service allows (CORS_ORIGINS). */
export const ALLOWED_ORIGIN = 'https://app.example';
/**
 * Put at the start of every generated value of a secret-bearing field (code, refresh_token,
 * code_verifier): it must never come back in an answer nor reach a log line.
 */
export const CANARY = 'fuzzCanary7q';
const SECRET_FIELDS = ['code', 'refresh_token', 'code_verifier'] as const;

/** The methods every path is tried with. */
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const;

export type Body =
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: number[] }
  /** `head`, then `fill` repeated, then `tail`: exactly `size` bytes of UTF-8 (a multi-byte fill may be cut). */
  | { kind: 'padded'; head: string; fill: string; tail: string; size: number }
  /** `{"<key>":` + `depth` levels of `[` or `{"a":` around a string, closed again. */
  | { kind: 'nested'; key: string; depth: number; shape: 'array' | 'object' };

export interface FuzzRequest {
  method: string;
  /** Appended to the service URL: a path, maybe with a query string. */
  path: string;
  headers: Record<string, string>;
  body?: Body;
  /** Send the body as a chunked stream of pieces this big instead of one buffer with a Content-Length. */
  chunkSize?: number;
}

const utf8 = new TextEncoder();

export function bodyBytes(body: Body): Uint8Array<ArrayBuffer> {
  switch (body.kind) {
    case 'text':
      return utf8.encode(body.text);
    case 'bytes':
      return Uint8Array.from(body.bytes);
    case 'padded': {
      const head = utf8.encode(body.head);
      const tail = utf8.encode(body.tail);
      const fill = utf8.encode(body.fill || 'A');
      const out = new Uint8Array(body.size);
      const middleEnd = Math.max(0, body.size - tail.length);
      out.set(head.subarray(0, Math.min(head.length, middleEnd)));
      for (let i = Math.min(head.length, middleEnd), j = 0; i < middleEnd; i++, j++) {
        out[i] = fill[j % fill.length] ?? 0x41;
      }
      out.set(tail.subarray(0, body.size - middleEnd), middleEnd);
      return out;
    }
    case 'nested': {
      const [open, close] = body.shape === 'array' ? ['[', ']'] : ['{"a":', '}'];
      return utf8.encode(
        `{${JSON.stringify(body.key)}:${open.repeat(body.depth)}"v"${close.repeat(body.depth)}}`,
      );
    }
  }
}

/** The media type as RFC 9110 defines it: case-insensitive, parameters ignored; undefined if none. */
export function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() || undefined;
}

// Characters ---------------------------------------------------------------------------------------

const charIn = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c));
/** What a header value may hold: printable ASCII and tab (fetch refuses CR, LF, NUL and non-Latin-1). */
const headerChar = fc.oneof({ weight: 20, arbitrary: charIn(0x20, 0x7e) }, fc.constant('\t'));
const visibleChar = charIn(0x21, 0x7e);
const VERIFIER_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
const verifierChar = fc.constantFrom(...VERIFIER_ALPHABET);
const idChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-');

const oddAscii = (maxLength: number) => fc.string({ unit: headerChar, maxLength });

// Field values -------------------------------------------------------------------------------------

const anyValue = fc.oneof(
  fc.string({ unit: visibleChar, maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 32 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'null',
    '[]',
    '{}',
    '%',
    '%ZZ',
    '\uFEFF',
    '\u202E',
    REDIRECT_URI,
    'myapp://callback',
    'http://127.0.0.1:1/any-port',
    'https://evil.example/cb',
    'javascript:alert(1)',
  ),
  fc.webUrl(),
);

const otherName = fc.oneof(
  fc.constantFrom(
    'redirect_uri',
    'grant_type',
    'client_id',
    'client_secret',
    'state',
    'scope',
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    '',
  ),
  fc.mixedCase(fc.constantFrom(...SECRET_FIELDS, 'redirect_uri')),
  fc.string({ unit: 'binary', maxLength: 16 }),
);

/** A well-formed code or refresh token (visible ASCII), canaried. */
const opaqueToken = fc.string({ unit: visibleChar, maxLength: 64 }).map((rest) => `${CANARY}${rest}`);
/** A well-formed PKCE verifier, canaried. */
const verifier = fc
  .string({ unit: verifierChar, minLength: 43 - CANARY.length, maxLength: 128 - CANARY.length })
  .map((rest) => `${CANARY}${rest}`);

/** Values of code, refresh_token and code_verifier: mostly canaried, well-formed or not. */
const secretValue = fc.oneof(
  opaqueToken,
  verifier,
  fc.string({ unit: 'binary', maxLength: 32 }).map((rest) => `${CANARY}${rest}`),
  anyValue,
);

/**
 * The fields of a request that passes the service's own checks, so Spotify (the sandbox) is called
 * and its error passes through: a code with maybe a verifier and a redirect URI, or a refresh token,
 * plus unknown extras.
 */
const plausibleFields: fc.Arbitrary<[string, string][]> = fc
  .tuple(
    fc.oneof(
      fc
        .record(
          { code: opaqueToken, code_verifier: verifier, redirect_uri: anyValue },
          { requiredKeys: ['code'] },
        )
        .map((fields) => Object.entries(fields)),
      opaqueToken.map((token): [string, string][] => [['refresh_token', token]]),
    ),
    fc.array(fc.tuple(otherName, anyValue), { maxLength: 2 }),
  )
  .map(([fields, extras]) => [...fields, ...extras.filter(([name]) => name !== 'redirect_uri')]);

/** One name/value pair; the names the service reads come up often, so repeats are common too. */
const field: fc.Arbitrary<[string, string]> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...SECRET_FIELDS), secretValue) },
  fc.tuple(fc.constant('redirect_uri'), anyValue),
  fc.tuple(otherName, anyValue),
);

// Bodies -------------------------------------------------------------------------------------------

const text = (t: string): Body => ({ kind: 'text', text: t });

/** Form bodies: well encoded, raw (unescaped `&`, `=`, `%`, malformed escapes), with junk separators. */
export const formBody: fc.Arbitrary<Body> = fc.oneof(
  plausibleFields.map((fields) => text(new URLSearchParams(fields).toString())),
  fc.array(field, { maxLength: 6 }).map((fields) => text(new URLSearchParams(fields).toString())),
  fc.array(field, { maxLength: 6 }).map((fields) => text(fields.map(([k, v]) => `${k}=${v}`).join('&'))),
  fc
    .tuple(
      fc.array(field, { maxLength: 4 }),
      fc.constantFrom(
        '&&',
        '&',
        '&=&',
        '=',
        '&code&',
        '&code=&',
        ';',
        '+',
        '%',
        '%2',
        '%ZZ',
        '%C0%AF',
        '%FF',
      ),
    )
    .map(([fields, junk]) => text(`${junk}${new URLSearchParams(fields)}${junk}`)),
);

/** Invalid UTF-8 pieces between bits of a form body. */
const badUtf8 = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        [0xff],
        [0xfe],
        [0x80],
        [0xc0, 0xaf],
        [0xc3],
        [0xe2, 0x82],
        [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
        [0xef, 0xbb, 0xbf],
        [0x00],
      ),
      fc.constantFrom('code=', 'refresh_token=', '&', '=', '{"code":"', '"}').map((s) => [...utf8.encode(s)]),
    ),
    { maxLength: 20 },
  )
  .map((parts): Body => ({ kind: 'bytes', bytes: parts.flat() }));

/** Sizes around the limit, at it exactly, and well over it. */
const hugeSize = fc.oneof(
  fc.integer({ min: BODY_LIMIT - 40, max: BODY_LIMIT + 40 }),
  fc.constantFrom(BODY_LIMIT, BODY_LIMIT + 1),
  fc.integer({ min: BODY_LIMIT + 1, max: 5 * BODY_LIMIT }),
);

const hugeBody: fc.Arbitrary<Body> = fc.oneof(
  fc.record({
    kind: fc.constant('padded' as const),
    head: fc.constantFrom('code=', 'refresh_token=', `code=${CANARY}`, 'code=a&redirect_uri=', 'x=', ''),
    fill: fc.constantFrom('A', 'a&', '%', '%41', 'é', '\u{1F600}', '='),
    tail: fc.constantFrom('', '&code=x', '&code=y&code=z'),
    size: hugeSize,
  }),
  fc.record({
    kind: fc.constant('padded' as const),
    head: fc.constantFrom('{"code":"', `{"refresh_token":"${CANARY}`, '{"code":"x","redirect_uri":"'),
    fill: fc.constantFrom('A', '\\u0041', 'é'),
    tail: fc.constant('"}'),
    size: hugeSize,
  }),
);

/** Anything as a body: text, bytes, forms, JSON-ish, and sizes around the limit. */
export const rawBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 3, arbitrary: formBody },
  fc.string({ unit: 'binary', maxLength: 200 }).map(text),
  fc.string({ unit: 'grapheme', maxLength: 100 }).map(text),
  fc.uint8Array({ maxLength: 200 }).map((bytes): Body => ({ kind: 'bytes', bytes: [...bytes] })),
  badUtf8,
  { weight: 2, arbitrary: hugeBody },
);

// JSON ---------------------------------------------------------------------------------------------

const jsonKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SECRET_FIELDS, 'redirect_uri') },
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', ''),
  fc.string({ unit: 'binary', maxLength: 16 }),
);

const jsonLeaf = fc.oneof(
  { weight: 3, arbitrary: secretValue.map((v) => JSON.stringify(v)) },
  fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.constant(null)).map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '1e400',
    '-0',
    '1E+2',
    '123456789012345678901234567890',
    '0.1e-999',
    '-1',
    '9007199254740993',
  ),
);

/** JSON text; objects are written as entry lists, so keys repeat and `__proto__` is a plain own key. */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonLeaf,
    fc.array(tie('node'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(jsonKey, tie('node')), { maxLength: 5 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).node;

const jsonObjectText = fc
  .array(fc.tuple(jsonKey, jsonText), { maxLength: 6 })
  .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);

const MUTATIONS = ['truncate', 'insert', 'single-quotes', 'trailing-comma', 'comment', 'append'] as const;

function mutate(doc: string, how: (typeof MUTATIONS)[number], at: number, char: string): string {
  const i = doc.length === 0 ? 0 : at % doc.length;
  switch (how) {
    case 'truncate':
      return doc.slice(0, i);
    case 'insert':
      return `${doc.slice(0, i)}${char}${doc.slice(i)}`;
    case 'single-quotes':
      return doc.replaceAll('"', "'");
    case 'trailing-comma':
      return doc.replace(/([}\]])$/, ',$1');
    case 'comment':
      return `/* ${char} */${doc}`;
    case 'append':
      return `${doc}${char}`;
  }
}

const malformedJson = fc
  .tuple(
    jsonObjectText,
    fc.constantFrom(...MUTATIONS),
    fc.nat(),
    fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '\u0000', 'x', 'NaN', 'undefined'),
  )
  .map(([doc, how, at, char]) => mutate(doc, how, at, char));

function utf16le(s: string, bom: boolean): number[] {
  const out = bom ? [0xff, 0xfe] : [];
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    out.push(unit & 0xff, unit >> 8);
  }
  return out;
}

const encoded = (doc: fc.Arbitrary<string>): fc.Arbitrary<Body> =>
  fc
    .tuple(
      doc,
      fc.oneof(
        { weight: 8, arbitrary: fc.constant('utf-8') },
        fc.constantFrom('bom', 'utf-16le', 'utf-16le-bom'),
      ),
    )
    .map(([s, as]) => {
      switch (as) {
        case 'bom':
          return text(`\uFEFF${s}`);
        case 'utf-16le':
        case 'utf-16le-bom':
          return { kind: 'bytes', bytes: utf16le(s, as === 'utf-16le-bom') };
        default:
          return text(s);
      }
    });

/** JSON documents: objects (mostly), any value at the top, malformed text, deep nesting, huge strings. */
export const jsonBody: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 2,
    arbitrary: encoded(plausibleFields.map((fields) => JSON.stringify(Object.fromEntries(fields)))),
  },
  { weight: 4, arbitrary: encoded(jsonObjectText) },
  encoded(jsonText),
  encoded(malformedJson),
  fc.record({
    kind: fc.constant('nested' as const),
    key: fc.constantFrom('code', 'refresh_token', 'x'),
    depth: fc.integer({ min: 1, max: 3000 }),
    shape: fc.constantFrom('array' as const, 'object' as const),
  }),
  hugeBody,
);

// Content types and headers ----------------------------------------------------------------------------

const parameters = fc
  .array(
    fc.tuple(
      fc.constantFrom('', ' ', '  '),
      fc.constantFrom('charset', 'CHARSET', 'boundary', 'q', 'x', ''),
      fc.oneof(
        fc.constantFrom(
          'utf-8',
          'UTF-8',
          'utf-16',
          'iso-8859-1',
          '"utf-8"',
          '"a;b"',
          '',
          '=',
          'application/json',
        ),
        oddAscii(20),
      ),
    ),
    { maxLength: 3 },
  )
  .map((ps) => ps.map(([space, name, value]) => `;${space}${name}=${value}`).join(''));

/** `application/json` or the form type, in any case, with any parameters (`APPLICATION/JSON; charset=utf-16`). */
const acceptedType = (types: readonly string[]) =>
  fc
    .tuple(fc.constantFrom('', ' '), fc.mixedCase(fc.constantFrom(...types)), parameters)
    .map(([space, type, params]) => `${space}${type}${params}`);

const plusJson = fc
  .tuple(
    fc.mixedCase(fc.constantFrom('application/vnd.api', 'application/merge-patch', 'text/ld')),
    parameters,
  )
  .map(([type, params]) => `${type}+json${params}`);

const otherType = fc.constantFrom(
  'text/plain',
  'text/json',
  'application/jsonp',
  'application/json5',
  'application/x-www-form-urlencodedx',
  'application/x-www-form',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/octet-stream',
  '*/*',
  ';application/json',
  'application',
  'json',
  'form',
  'application/json, text/plain',
  'application/x-www-form-urlencoded, application/json',
  'application\\json',
  'application /json',
);

/** undefined: no Content-Type header at all. */
export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 4, arbitrary: acceptedType([FORM, JSON_TYPE]) },
  plusJson,
  otherType,
  oddAscii(40),
  fc.constant(undefined),
);

export const formContentType: fc.Arbitrary<string> = acceptedType([FORM]);

export const jsonContentType: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: acceptedType([JSON_TYPE]) },
  plusJson,
);

const requestId = fc.oneof(
  fc.string({ unit: idChar, minLength: 1, maxLength: 128 }),
  fc.string({ unit: idChar, minLength: 129, maxLength: 300 }),
  oddAscii(200),
  fc.constantFrom('', ' ', 'abc def', 'a\tb', '../../etc/passwd', '"><script>', 'a'.repeat(129)),
);

const origin = fc.oneof(
  fc.constant(ALLOWED_ORIGIN),
  fc.constantFrom(
    'https://evil.example',
    'null',
    'https://app.example.evil',
    'HTTPS://APP.EXAMPLE',
    'https://app.example/',
    'https://app.example:443',
    'http://app.example',
    '',
  ),
  fc.webUrl().map((u) => new URL(u).origin),
  oddAscii(60),
);

/** X-Request-Id and Origin, each maybe absent, and a Content-Type (absent when `type` says undefined). */
export const headers = (type: fc.Arbitrary<string | undefined>) =>
  fc
    .record(
      {
        'x-request-id': requestId,
        origin,
        'content-type': type,
      },
      { requiredKeys: ['content-type'] },
    )
    .map((h) => {
      const out: Record<string, string> = {};
      for (const [name, value] of Object.entries(h)) {
        if (value !== undefined) {
          out[name] = value;
        }
      }
      return out;
    });

/** Mostly undefined (one buffer with a Content-Length); else the size of each chunk of a chunked upload. */
export const chunkSize: fc.Arbitrary<number | undefined> = fc.oneof(
  { withCrossShrink: true },
  { weight: 3, arbitrary: fc.constant(undefined) },
  fc.integer({ min: 512, max: 8192 }),
);

// Paths ---------------------------------------------------------------------------------------------

const knownPath = fc.constantFrom(...KNOWN_PATHS);

function percentEncode(path: string, which: boolean[], upper: boolean): string {
  return [...path]
    .map((ch, i) => {
      if (ch === '/' || !which[i]) {
        return ch;
      }
      const hex = ch.charCodeAt(0).toString(16).padStart(2, '0');
      return `%${upper ? hex.toUpperCase() : hex}`;
    })
    .join('');
}

/**
 * Paths: the real ones, their case variants, trailing and doubled slashes, dot segments (which fetch
 * resolves before sending), percent-encoding good and bad, long ones (under Node's 16 KiB header cap),
 * and random ones.
 */
export const path: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: knownPath },
  { weight: 2, arbitrary: fc.mixedCase(knownPath) },
  fc.tuple(knownPath, fc.integer({ min: 1, max: 3 })).map(([p, n]) => `${p}${'/'.repeat(n)}`),
  knownPath.map((p) => p.replaceAll('/', '//')),
  fc
    .tuple(
      knownPath,
      fc.constantFrom('/./', '/x/../', '/%2e%2e/', '/%2E/', '/..', '/.', '/a/b/../../', '/..%2f', '/.%2e/'),
    )
    .map(([p, dots]) => `${dots}${p.slice(1)}`),
  fc
    .tuple(knownPath, fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }), fc.boolean())
    .map(([p, which, upper]) => percentEncode(p, which, upper)),
  fc
    .tuple(
      knownPath,
      fc.constantFrom(
        '%',
        '%Z',
        '%ZZ',
        '%C0%AF',
        '%FF',
        '%00',
        '%E2%80%AE',
        '%2F',
        '%5C',
        ';x=1',
        '%20',
        '\\',
        '#x',
      ),
    )
    .map(([p, junk]) => `${p}${junk}`),
  fc
    .tuple(
      knownPath,
      fc.oneof(
        fc.integer({ min: 100, max: 8000 }).map((n) => 'a'.repeat(n)),
        fc.integer({ min: 100, max: 8000 }).map((n) => '/'.repeat(n)),
        fc.integer({ min: 100, max: 2500 }).map((n) => '%41'.repeat(n)),
        fc.integer({ min: 100, max: 1300 }).map((n) => 'é'.repeat(n)),
      ),
    )
    .map(([p, long]) => `${p}/${long}`),
  fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
  fc
    .array(fc.string({ unit: 'binary', maxLength: 20 }), { minLength: 1, maxLength: 5 })
    .map((s) => `/${s.join('/')}`),
);

/** A query string, maybe carrying code=… where it does not belong. */
export const query: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.array(field, { minLength: 1, maxLength: 4 }).map((fields) => `?${new URLSearchParams(fields)}`),
  fc
    .array(field, { minLength: 1, maxLength: 4 })
    .map((fields) => `?${fields.map(([k, v]) => `${k}=${v}`).join('&')}`),
  fc.webQueryParameters().map((q) => `?${q}`),
);

/**
 * The standard methods, a few that fetch upper-cases itself, and extension methods Node's parser
 * knows. Tokens it does not know (`Patch`, `FOO`) get a bare 400 from Node before the app runs.
 */
export const method = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...METHODS) },
  fc.constantFrom('post', 'get', 'delete', 'PROPFIND', 'QUERY', 'PURGE'),
);

// Sealed refresh tokens --------------------------------------------------------------------------------

/** One change to a sealed token: to its bytes (under the base64url), its text, or its prefix. */
export type Tamper =
  | { kind: 'intact' }
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'append'; bytes: number[] }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'prefix'; prefix: string };

export const tampering: fc.Arbitrary<Tamper> = fc.oneof(
  fc.constant({ kind: 'intact' as const }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(),
      mask: fc.integer({ min: 1, max: 255 }),
    }),
  },
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({
    kind: fc.constant('append' as const),
    bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 40 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.constantFrom('=', '==', '+', '/', ' ', '%2B', '.', '-', '_', 'sts1.', '\u0000', 'A'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }),
    ),
  }),
  fc.record({
    kind: fc.constant('prefix' as const),
    // Every one differs from SEALED_PREFIX (`sts2.`): the list was written for `sts1.`, and kept
    // `sts2.`, which is no tamper at all now (a seed that drew it sent a valid token to Spotify).
    prefix: fc.constantFrom('', 'STS2.', 'sts1.', 'sts2..', 'sts2', ' sts2.', 'sts3.', 'Bearer sts2.'),
  }),
);

/** Applies a tamper to a sealed token (`sts2.` + base64url). */
export function tamper(token: string, how: Tamper): string {
  const encoded = token.slice(SEALED_PREFIX.length);
  const bytes = fromBase64url(encoded) ?? new Uint8Array(0);
  switch (how.kind) {
    case 'intact':
      return token;
    case 'flip': {
      const copy = Uint8Array.from(bytes);
      const at = how.at % copy.length;
      copy[at] = (copy[at] ?? 0) ^ how.mask;
      return SEALED_PREFIX + base64url(copy);
    }
    case 'truncate':
      return SEALED_PREFIX + base64url(bytes.subarray(0, how.keep % bytes.length));
    case 'append':
      return SEALED_PREFIX + base64url(Uint8Array.from([...bytes, ...how.bytes]));
    case 'insert': {
      const at = how.at % (token.length + 1);
      return `${token.slice(0, at)}${how.text}${token.slice(at)}`;
    }
    case 'prefix':
      return `${how.prefix}${encoded}`;
  }
}
