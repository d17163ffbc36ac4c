/**
 * Checks real HTTP answers against the service's OpenAPI document: the status must be documented
 * for the path and method, every documented header must be present when required and match its
 * schema, no other header may appear (but transport and CORS headers), and the body must match the
 * schema of its exact media type. Schemas are compiled by Ajv's JSON Schema 2020-12 validator, the
 * dialect of OpenAPI 3.1.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

type Obj = Record<string, unknown>;

export interface CheckedResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or the text of any other body. */
  body: unknown;
  /** `METHOD /template STATUS-KEY`, e.g. `POST /swap 4XX`; `* (unlisted) 404` for unknown paths. */
  documentedAs: string;
}

/** Headers any HTTP answer may carry, and the CORS headers the document describes in prose. */
function exempt(name: string): boolean {
  return (
    [
      'content-type',
      'content-length',
      'date',
      'connection',
      'keep-alive',
      'transfer-encoding',
      'vary',
    ].includes(name) || name.startsWith('access-control-')
  );
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mediaType(contentType: string): string {
  return contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

class ContractViolation extends Error {
  override readonly name = 'ContractViolation';
}

export function createContract(document: unknown) {
  if (!isObj(document) || !isObj(document.paths) || !isObj(document.components)) {
    throw new TypeError('not an OpenAPI document');
  }
  const paths = document.paths as Record<string, Obj>;
  const components = document.components as Record<string, Record<string, unknown>>;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  // Schemas point at `#/components/schemas/X`; compiled alone, they find them under `$defs`.
  const toDefs = <T>(value: T): T =>
    JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"#/$defs/')) as T;
  const defs = toDefs(components.schemas ?? {});
  const compiled = new Map<string, ValidateFunction>();
  const seen = new Set<string>();

  function validator(schema: unknown): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile({ ...(toDefs(schema) as Obj), $defs: defs });
      compiled.set(key, validate);
    }
    return validate;
  }

  function schemaProblems(schema: unknown, value: unknown, where: string): string[] {
    const validate = validator(schema);
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) => `${where}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`,
    );
  }

  /** Follows a `#/components/...` reference; sibling fields (a description) override, as in OAS 3.1. */
  function resolve(value: unknown): Obj {
    if (!isObj(value)) throw new TypeError(`not an object: ${JSON.stringify(value)}`);
    const pointer = value.$ref;
    if (typeof pointer !== 'string') return value;
    const [, , kind, name] = pointer.split('/');
    const target = components[kind ?? '']?.[name ?? ''];
    if (target === undefined) throw new TypeError(`unresolved ${pointer}`);
    const { $ref: _, ...siblings } = value;
    return { ...resolve(target), ...siblings };
  }

  function parametersOf(item: Obj, operation: Obj | undefined): Obj[] {
    return [...((item.parameters as unknown[]) ?? []), ...((operation?.parameters as unknown[]) ?? [])].map(
      resolve,
    );
  }

  /** The path template that serves `path`: a literal one first, then a templated one whose parameters fit. */
  function route(path: string): { template: string; item: Obj } | undefined {
    const literal = paths[path];
    if (literal) return { template: path, item: literal };
    const segments = path.split('/');
    for (const [template, item] of Object.entries(paths)) {
      const parts = template.split('/');
      // The Web API proxy's `{path}` is the rest of the path, slashes included (OpenAPI has no such parameter).
      const rest = parts.at(-1) === '{path}';
      const sized = rest ? segments.length >= parts.length : segments.length === parts.length;
      if (!template.includes('{') || !sized) continue;
      const values: Record<string, string> = {};
      const fits = parts.every((part, i) => {
        const name = /^\{(.+)\}$/.exec(part)?.[1];
        if (name === undefined) return part === segments[i];
        const value = rest && i === parts.length - 1 ? segments.slice(i).join('/') : (segments[i] ?? '');
        values[name] = decodeURIComponent(value);
        return true;
      });
      if (!fits) continue;
      const operations = Object.values(item).filter(isObj);
      const params = parametersOf(
        item,
        operations.find((op) => Array.isArray(op.parameters)),
      );
      const valid = params
        .filter((p) => p.in === 'path')
        .every((p) => schemaProblems(p.schema, values[p.name as string], 'path').length === 0);
      if (valid) return { template, item };
    }
    return undefined;
  }

  function responseFor(responses: Obj, status: number): [string, Obj] | undefined {
    for (const key of [String(status), `${Math.floor(status / 100)}XX`, 'default']) {
      if (responses[key] !== undefined) return [key, resolve(responses[key])];
    }
    return undefined;
  }

  function headerValue(schema: Obj, raw: string): unknown {
    return schema.type === 'integer' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
  }

  return {
    /** Every `documentedAs` checked so far. */
    seen,

    /** Compiles every schema of the document (strict mode); returns how many, throws at the first bad one. */
    compileAll(): number {
      let count = 0;
      const walk = (value: unknown): void => {
        if (Array.isArray(value)) value.forEach(walk);
        if (!isObj(value)) return;
        for (const [key, child] of Object.entries(value)) {
          if (key === 'schema') {
            validator(child);
            count++;
          } else {
            walk(child);
          }
        }
      };
      walk(document);
      for (const schema of Object.values(components.schemas ?? {})) {
        validator(schema);
        count++;
      }
      return count;
    },

    /** Problems of a request body (as the service reads it) against the operation's request schema. */
    requestProblems(method: string, path: string, contentType: string, body: unknown): string[] {
      const found = route(path);
      const operation = found && (found.item[method.toLowerCase()] as Obj | undefined);
      if (!operation?.requestBody) return [`${method} ${path} has no documented request body`];
      const content = resolve(operation.requestBody).content as Record<string, Obj>;
      const media = content[mediaType(contentType)];
      if (!media) return [`${contentType} is not a documented request media type of ${method} ${path}`];
      return schemaProblems(media.schema, body, 'request');
    },

    /** Checks one answer; throws a ContractViolation listing every problem. */
    async check(method: string, path: string, response: Response): Promise<CheckedResponse> {
      const { expected, documentedAs, problems } = documentedAnswer(method, path, response.status);
      const text = await response.text();
      let body: unknown = text;
      if (expected) {
        const [, definition] = expected;
        problems.push(...headerProblems(definition, response.headers));
        const checked = bodyProblems(definition, response.headers.get('content-type'), text);
        problems.push(...checked.problems);
        body = checked.body;
      }
      seen.add(documentedAs);
      if (problems.length > 0) {
        throw new ContractViolation(
          `${method} ${path} → ${response.status} breaks the OpenAPI document:\n  ${problems.join('\n  ')}\n  body: ${text.slice(0, 500)}`,
        );
      }
      return { status: response.status, headers: response.headers, body, documentedAs };
    },
  };

  /** Which documented response an answer is, if any: the response, its `documentedAs`, and problems. */
  function documentedAnswer(
    method: string,
    path: string,
    status: number,
  ): { expected: [string, Obj] | undefined; documentedAs: string; problems: string[] } {
    const found = route(path);
    if (!found) {
      // No path of the document: only the generic 404 is a documented answer.
      return status === 404
        ? {
            expected: ['404', resolve(components.responses?.NotFound)],
            documentedAs: '* (unlisted) 404',
            problems: [],
          }
        : {
            expected: undefined,
            documentedAs: `* (unlisted) ${status}`,
            problems: [`${method} ${path}: no documented path, and the answer is ${status}, not 404`],
          };
    }
    const operation = found.item[method.toLowerCase()] as Obj | undefined;
    if (operation) {
      const expected = responseFor(operation.responses as Obj, status);
      return {
        expected,
        documentedAs: `${method} ${found.template} ${expected?.[0] ?? status}`,
        problems: expected ? [] : [`${method} ${found.template}: status ${status} is not documented`],
      };
    }
    // A method without an operation: the 405 the path's operations document, nothing else.
    const documentedAs = `${method} ${found.template} 405`;
    const documented405 = Object.values(found.item)
      .filter(isObj)
      .map((op) => (op.responses as Obj | undefined)?.['405'])
      .find((r) => r !== undefined);
    if (documented405 === undefined) {
      return {
        expected: undefined,
        documentedAs,
        problems: [`${method} ${found.template}: no operation and no 405`],
      };
    }
    if (status !== 405) {
      return {
        expected: undefined,
        documentedAs,
        problems: [`${method} ${found.template}: answered ${status}`],
      };
    }
    return { expected: ['405', resolve(documented405)], documentedAs, problems: [] };
  }

  /** Every documented header present and valid, every required one there, nothing undocumented. */
  function headerProblems(definition: Obj, received: Headers): string[] {
    const problems: string[] = [];
    const headers = Object.fromEntries(
      Object.entries((definition.headers as Obj | undefined) ?? {}).map(([name, h]) => [name, resolve(h)]),
    );
    const declared = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
    for (const [name, header] of Object.entries(headers)) {
      const raw = received.get(name);
      if (raw === null) {
        if (header.required === true) problems.push(`header ${name} is required but missing`);
        continue;
      }
      const schema = header.schema as Obj;
      problems.push(...schemaProblems(schema, headerValue(schema, raw), `header ${name}`));
    }
    for (const name of received.keys()) {
      if (!exempt(name) && !declared.has(name)) problems.push(`header ${name} is not documented`);
    }
    return problems;
  }

  /** The body against the documented media type and schema; a JSON body comes back parsed. */
  function bodyProblems(
    definition: Obj,
    contentType: string | null,
    text: string,
  ): { problems: string[]; body: unknown } {
    const content = definition.content as Record<string, Obj> | undefined;
    if (!content) return { problems: text !== '' ? ['a body where none is documented'] : [], body: text };
    if (contentType === null) return { problems: ['no Content-Type'], body: text };
    const key = content[contentType] ? contentType : mediaType(contentType);
    const media = content[key];
    if (!media) {
      return {
        problems: [`Content-Type ${contentType} is not documented (${Object.keys(content).join(', ')})`],
        body: text,
      };
    }
    if (key !== 'application/json' && !key.endsWith('+json')) {
      return { problems: schemaProblems(media.schema, text, 'body'), body: text };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return {
        problems: ['the body is not JSON', ...schemaProblems(media.schema, text, 'body')],
        body: text,
      };
    }
    return { problems: schemaProblems(media.schema, body, 'body'), body };
  }
}

export type Contract = ReturnType<typeof createContract>;
