/**
 * Reading the parameters of a token request: form or JSON body, nothing else, each known
 * parameter at most once (RFC 6749 §3.2: "parameters MUST NOT be included more than once").
 * The body size limit is enforced before this runs (middleware/body-limit.ts).
 */
import { CODE_VERIFIER_PATTERN } from '../../shared/encoding.js';
import { FIELD_LIMITS } from '../contract.js';
import { invalidRequest, OAuthError } from '../errors.js';

/**
 * Every value given for each parameter name, in order: strings from a form, whatever JSON value a JSON
 * body had (so that a number or an object is refused, not turned into text and sent on).
 */
export type RawParams = Map<string, unknown[]>;

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

function mediaType(contentType: string | null): string | undefined {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() || undefined;
}

function add(params: RawParams, name: string, value: unknown) {
  const values = params.get(name);
  if (values) {
    values.push(value);
  } else {
    params.set(name, [value]);
  }
}

/**
 * A form body, read as URLSearchParams reads it (the WHATWG URL standard's
 * application/x-www-form-urlencoded parser). A body without `%` or `+` has nothing to decode, so each
 * pair is two slices of the text: every `refresh_token=sts2.…` is such a body, and URLSearchParams'
 * own loop over it was about 2% of a refresh's instructions (docs/benchmarks.md). A lone surrogate,
 * which URLSearchParams would replace, goes the general way too; test/params.test.ts checks the two
 * agree on any text.
 */
export function formParams(text: string): RawParams {
  const params: RawParams = new Map();
  if (text.includes('%') || text.includes('+') || !text.isWellFormed()) {
    for (const [name, value] of new URLSearchParams(text)) add(params, name, value);
    return params;
  }
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    if (at === -1) add(params, pair, '');
    else add(params, pair.slice(0, at), pair.slice(at + 1));
  }
  return params;
}

/** Skips one JSON string starting at `i` (a quote); returns the index after its closing quote. */
function skipString(text: string, i: number): number {
  let at = i + 1;
  while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
  return at + 1;
}

/**
 * The keys of a JSON object as written, duplicates included (JSON.parse keeps only the last of a
 * repeated key, and the rule is that a parameter must not be repeated). `text` is known to be a valid
 * JSON object: only strings and nesting need tracking.
 */
const NESTING: Readonly<Record<string, number>> = { '{': 1, '[': 1, '}': -1, ']': -1 };

export function keysAsWritten(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] ?? '';
    if (char === '"') {
      const end = skipString(text, i);
      if (expectKey) keys.push(JSON.parse(text.slice(i, end)) as string);
      expectKey = false;
      i = end - 1;
      continue;
    }
    depth += NESTING[char] ?? 0;
    // A key follows the object's `{` or one of its commas, never a comma inside a value.
    if (depth === 1 && (char === '{' || char === ',')) expectKey = true;
  }
  return keys;
}

function jsonParams(text: string): RawParams {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalidRequest('The request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('The JSON request body must be an object');
  }
  const values = body as Record<string, unknown>;
  const params: RawParams = new Map();
  for (const name of keysAsWritten(text)) {
    // null means not given, as an empty form value does.
    if (values[name] !== null) add(params, name, values[name]);
  }
  return params;
}

/** Reads form or JSON parameters; 415 for any other content type. */
export async function readParams(request: Request): Promise<RawParams> {
  const type = mediaType(request.headers.get('content-type'));
  let text: string;
  try {
    text = await request.text();
  } catch {
    // The client went away mid-body, or sent bytes that are not text.
    throw invalidRequest('The request body could not be read');
  }
  if (type === FORM || (type === undefined && text === '')) return formParams(text);
  if (type === JSON_TYPE || type?.endsWith('+json')) return jsonParams(text);
  throw new OAuthError(
    415,
    'invalid_request',
    'Send the parameters as application/x-www-form-urlencoded or application/json',
  );
}

/**
 * Returns the single value of a parameter, undefined for an empty one; a repeated one, or one that is
 * not a string, is `invalid_request`.
 */
export function single(params: RawParams, name: string): string | undefined {
  const values = params.get(name);
  if (!values || values.length === 0) {
    return undefined;
  }
  if (values.length > 1) {
    throw invalidRequest(`The ${name} parameter must not be repeated`);
  }
  const [value] = values;
  if (typeof value !== 'string') {
    throw invalidRequest(`The ${name} parameter must be a string`);
  }
  return value === '' ? undefined : value;
}

// Codes and refresh tokens are opaque, but always short runs of visible ASCII.
const OPAQUE_TOKEN = new RegExp(`^[\\x21-\\x7e]{1,${FIELD_LIMITS.token}}$`);
/**
 * Refresh tokens sealed by the Ruby service are Base64 with newlines, whose `+` turn into spaces
 * when a client forgets to URL-encode them: let those through to the legacy unsealer.
 */
const LEGACY_TOKEN = new RegExp(`^[\\x20-\\x7e\\r\\n]{1,${FIELD_LIMITS.legacyToken}}$`);

export function requiredToken(params: RawParams, name: string, options: { legacy?: boolean } = {}): string {
  const value = single(params, name);
  if (value === undefined) {
    throw invalidRequest(`The ${name} parameter is required`);
  }
  if (!(options.legacy ? LEGACY_TOKEN : OPAQUE_TOKEN).test(value)) {
    throw invalidRequest(`The ${name} parameter is malformed`);
  }
  return value;
}

export function optionalCodeVerifier(params: RawParams): string | undefined {
  const value = single(params, 'code_verifier');
  if (value !== undefined && !CODE_VERIFIER_PATTERN.test(value)) {
    throw invalidRequest('The code_verifier parameter must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~');
  }
  return value;
}

export function optionalRedirectUri(params: RawParams): string | undefined {
  const value = single(params, 'redirect_uri');
  if (value !== undefined && value.length > FIELD_LIMITS.redirectUri) {
    throw invalidRequest('The redirect_uri parameter is too long');
  }
  return value;
}

/** RFC 7009 §2.1: a hint the server may use; one it does not know is ignored, but must be sane. */
const TOKEN_TYPE_HINT = /^[A-Za-z0-9_.-]{1,64}$/;

export function optionalTokenTypeHint(params: RawParams): string | undefined {
  const value = single(params, 'token_type_hint');
  if (value !== undefined && !TOKEN_TYPE_HINT.test(value)) {
    throw invalidRequest('The token_type_hint parameter is malformed');
  }
  return value;
}

/** A scope as RFC 6749 §3.3 writes it: space-separated tokens of visible ASCII but `"` and backslash. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

export function optionalScope(params: RawParams): string | undefined {
  const value = single(params, 'scope');
  if (value !== undefined && (value.length > FIELD_LIMITS.scope || !SCOPE.test(value))) {
    throw invalidRequest('The scope parameter is malformed');
  }
  return value;
}
