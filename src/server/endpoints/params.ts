/**
 * Reading the parameters of a token request: form or JSON body, nothing else, each known
 * parameter at most once (RFC 6749 §3.2: "parameters MUST NOT be included more than once").
 * The body size limit is enforced before this runs (middleware/body-limit.ts).
 */
import { CODE_VERIFIER_PATTERN } from '../../shared/encoding.js';
import { FIELD_LIMITS } from '../contract.js';
import { invalidRequest, OAuthError } from '../errors.js';

/** Every value given for each parameter name, in order. */
export type RawParams = Map<string, string[]>;

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

function mediaType(contentType: string | null): string | undefined {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() || undefined;
}

function add(params: RawParams, name: string, value: string) {
  const values = params.get(name);
  if (values) {
    values.push(value);
  } else {
    params.set(name, [value]);
  }
}

function formParams(text: string): RawParams {
  const params: RawParams = new Map();
  for (const [name, value] of new URLSearchParams(text)) add(params, name, value);
  return params;
}

/** A JSON value as parameter text: strings as they are, anything else as its JSON. */
function jsonParamText(value: unknown): string {
  return typeof value === 'string'
    ? value
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);
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
  const params: RawParams = new Map();
  for (const [name, value] of Object.entries(body)) {
    if (value === null || value === undefined) continue;
    // A JSON array is how a naive client repeats a parameter; keep it so that `single` sees it.
    for (const item of Array.isArray(value) ? value : [value]) add(params, name, jsonParamText(item));
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

/** Returns the single value of a parameter; a repeated one is `invalid_request`. */
function single(params: RawParams, name: string): string | undefined {
  const values = params.get(name);
  if (!values || values.length === 0) {
    return undefined;
  }
  if (values.length > 1) {
    throw invalidRequest(`The ${name} parameter must not be repeated`);
  }
  return values[0] === '' ? undefined : values[0];
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
