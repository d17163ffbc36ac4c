/**
 * A small OTLP/HTTP traces receiver on a loopback port, as a collector is to the service: it keeps
 * every export's raw bytes and headers (for "never contains" checks) and decodes the JSON encoding
 * (OTLP/JSON: ids in hex, attributes as `{key, value: {stringValue | intValue | ...}}`).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Export {
  /** Where it was posted, e.g. `/v1/traces`. */
  path: string | undefined;
  contentType: string | undefined;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 2: server, 3: client. */
  kind: number;
  /** 0: unset, 2: error. */
  statusCode: number;
  attributes: Record<string, string | number | boolean>;
  resource: Record<string, string | number | boolean>;
}

export interface Receiver {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  url: string;
  exports: Export[];
  /** Every span of the JSON exports so far. */
  spans(): ReceivedSpan[];
  /** Every byte received so far, bodies and headers, as text. */
  rawText(): string;
  /** What the next exports are answered: 400 is a failure the exporter does not retry. */
  answerWith(status: number): void;
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

type KeyValues = { key: string; value: AnyValue }[] | undefined;

function attributes(list: KeyValues): Record<string, string | number | boolean> {
  const result: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    const { stringValue, intValue, doubleValue, boolValue } = value;
    const found =
      stringValue ?? (intValue === undefined ? undefined : Number(intValue)) ?? doubleValue ?? boolValue;
    if (found === undefined) throw new Error(`attribute ${key} has no value: ${JSON.stringify(value)}`);
    result[key] = found;
  }
  return result;
}

interface OtlpJson {
  resourceSpans?: {
    resource?: { attributes?: KeyValues };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        status?: { code?: number };
        attributes?: KeyValues;
      }[];
    }[];
  }[];
}

function decode(body: OtlpJson): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((resourceSpans) => {
    const resource = attributes(resourceSpans.resource?.attributes);
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
        statusCode: span.status?.code ?? 0,
        attributes: attributes(span.attributes),
        resource,
      })),
    );
  });
}

export async function startReceiver(): Promise<Receiver> {
  let status = 200;
  const exports: Export[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const contentType = request.headers['content-type'];
      exports.push({ path: request.url, contentType, headers: request.headers, raw: Buffer.concat(chunks) });
      // An empty ExportTraceServiceResponse: full success, in the request's encoding.
      const json = contentType === 'application/json';
      response.writeHead(status, { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' });
      response.end(json ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    spans: () =>
      exports
        .filter((e) => e.contentType === 'application/json')
        .flatMap((e) => decode(JSON.parse(e.raw.toString('utf8')) as OtlpJson)),
    answerWith: (next) => {
      status = next;
    },
    rawText: () => exports.map((e) => `${JSON.stringify(e.headers)}\n${e.raw.toString('latin1')}`).join('\n'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
