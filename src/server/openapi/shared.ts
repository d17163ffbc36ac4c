/** What the parts of the OpenAPI document share: JSON values, references, the headers of answers. */
import { JSON_HEADERS } from '../answer.js';

/** A JSON value: the document is plain data. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export const ref = (
  kind: 'schemas' | 'responses' | 'headers' | 'parameters' | 'requestBodies',
  name: string,
) => ({
  $ref: `#/components/${kind}/${name}`,
});

export const JSON_TYPE = JSON_HEADERS['Content-Type'] ?? 'application/json';
export const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Headers of every JSON answer. */
export const jsonHeaders = {
  'Cache-Control': ref('headers', 'CacheControl'),
  Pragma: ref('headers', 'Pragma'),
  'X-Request-Id': ref('headers', 'RequestId'),
  'X-Content-Type-Options': ref('headers', 'ContentTypeOptions'),
};

/** Headers of the answers of the token endpoints, which sit behind a rate limit. */
export const tokenHeaders = {
  ...jsonHeaders,
  'RateLimit-Policy': ref('headers', 'RateLimitPolicy'),
  RateLimit: ref('headers', 'RateLimit'),
};

export function errorResponse(
  description: string,
  example: { error: string; error_description: string },
  options: { code?: string; headers?: Record<string, Json> } = {},
): Json {
  const schema =
    options.code === undefined
      ? ref('schemas', 'Error')
      : {
          type: 'object',
          $ref: '#/components/schemas/Error',
          properties: { error: { const: options.code } },
        };
  return {
    description,
    headers: options.headers ?? tokenHeaders,
    content: { [JSON_TYPE]: { schema, example } },
  };
}

export function jsonOk(description: string, schema: Json, headers: Record<string, Json> = jsonHeaders): Json {
  return { description, headers, content: { [JSON_TYPE]: { schema } } };
}
