/**
 * The tracing seam. The core opens a server span around each token request
 * (middleware/trace-request.ts) and a client span around each attempt at Spotify's token endpoint
 * (upstream/caller.ts) through this interface. The Node entry backs it with the OpenTelemetry SDK
 * (src/runtimes/node/tracing.ts) when tracing is configured; otherwise no tracing is given to the app
 * and no span is made at all.
 *
 * Attribute names are OpenTelemetry's HTTP semantic conventions (docs/observability.md, "What a
 * trace holds"), plus the service's own under `token_swap.`. Every value is chosen here from a
 * bounded set or from the configuration: never a token, a code, a verifier, a secret, a query string
 * or the value of a header (but the request URL's host and port, which the conventions make
 * `server.address` and `server.port`).
 */
import type { AppConfig } from './config/index.js';
import type { Grant } from './contract.js';
import { tokenEndpoint, type UpstreamResult } from './upstream/token-request.js';

export type SpanAttributes = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Span {
  setAttributes(attributes: SpanAttributes): void;
  /** `failed`: the span's status is an error. */
  end(failed: boolean): void;
}

/** The server span of one token request. */
export interface RequestSpan extends Span {
  /** What the request's log lines carry (`trace_id`, `span_id`), so a log line leads to its trace. */
  readonly traceId: string;
  readonly spanId: string;
  /** A client span under this one. */
  startChild(name: string, attributes: SpanAttributes): Span;
}

/** The W3C Trace Context headers of the request, as sent: the backend decides whether they are sane. */
export interface TraceCarrier {
  traceparent: string | undefined;
  tracestate: string | undefined;
}

export interface Tracing {
  /** Continues the trace of `parent` when it holds a valid `traceparent`, else starts one. */
  startRequest(name: string, attributes: SpanAttributes, parent: TraceCarrier): RequestSpan;
}

/** The attribute names, as OpenTelemetry's semantic conventions spell them (checked by test/tracing.test.ts). */
export const ATTR = {
  httpRequestMethod: 'http.request.method',
  httpRoute: 'http.route',
  httpResponseStatusCode: 'http.response.status_code',
  httpRequestResendCount: 'http.request.resend_count',
  urlScheme: 'url.scheme',
  urlPath: 'url.path',
  urlFull: 'url.full',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
  app: 'token_swap.app',
  grantType: 'token_swap.grant_type',
  upstreamAttempt: 'token_swap.upstream.attempt',
  upstreamOutcome: 'token_swap.upstream.outcome',
  coalesced: 'token_swap.refresh.coalesced',
} as const;

/** The grant type each endpoint sends upstream, as the metrics label it (revocation sends none: `revocation`). */
export const GRANT_TYPES: Readonly<Record<Grant, string>> = {
  swap: 'authorization_code',
  refresh: 'refresh_token',
  revoke: 'revocation',
};

/** The methods the conventions name; any other is `_OTHER`, so a client cannot write into a span. */
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

function serverOf(url: URL): SpanAttributes {
  return {
    [ATTR.serverAddress]: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    [ATTR.serverPort]: url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port),
  };
}

/** The name and first attributes of a token request's span: `POST /swap`, route pattern and all. */
export function requestSpanStart(
  request: Pick<Request, 'method' | 'url'>,
  route: string,
  app: { grant: Grant | undefined; name: string },
): { name: string; attributes: SpanAttributes } {
  const method = KNOWN_METHODS.has(request.method) ? request.method : '_OTHER';
  const url = new URL(request.url);
  return {
    name: `${method === '_OTHER' ? 'HTTP' : method} ${route}`,
    attributes: {
      [ATTR.httpRequestMethod]: method,
      [ATTR.httpRoute]: route,
      [ATTR.urlScheme]: url.protocol.slice(0, -1),
      // The path only: it matched `route`, so it holds nothing but the route and a configured app name.
      [ATTR.urlPath]: url.pathname,
      ...serverOf(url),
      // Empty where the body names the app (POST /token at the root): the handler sets it then.
      [ATTR.app]: app.name === '' ? undefined : app.name,
      [ATTR.grantType]: app.grant === undefined ? undefined : GRANT_TYPES[app.grant],
    },
  };
}

/** A server span fails on a 5xx only: a 4xx is the client's doing (the conventions' rule). */
export function endRequestSpan(span: Span, status: number): void {
  const failed = status >= 500;
  span.setAttributes({
    [ATTR.httpResponseStatusCode]: status,
    [ATTR.errorType]: failed ? String(status) : undefined,
  });
  span.end(failed);
}

type UpstreamApp = Pick<AppConfig, 'name' | 'accountsUrl'>;

// Apps are frozen for the life of the process: their upstream's attributes are worked out once.
const upstreamAttributes = new WeakMap<UpstreamApp, SpanAttributes>();
function upstreamOf(app: UpstreamApp): SpanAttributes {
  let attributes = upstreamAttributes.get(app);
  if (attributes === undefined) {
    // The configuration refuses an Accounts URL with a query or credentials (config/rules.ts).
    const url = tokenEndpoint(app);
    attributes = { [ATTR.httpRequestMethod]: 'POST', [ATTR.urlFull]: url, ...serverOf(new URL(url)) };
    upstreamAttributes.set(app, attributes);
  }
  return attributes;
}

/** A client span around one attempt at the app's token endpoint, under `parent` when there is one. */
export function startUpstreamSpan(
  parent: RequestSpan | undefined,
  app: UpstreamApp,
  call: { grantType: string; attempt: number },
): Span | undefined {
  if (!parent) return undefined;
  return parent.startChild('POST', {
    ...upstreamOf(app),
    // The conventions count resends: none on the first attempt.
    [ATTR.httpRequestResendCount]: call.attempt > 1 ? call.attempt - 1 : undefined,
    [ATTR.upstreamAttempt]: call.attempt,
    [ATTR.app]: app.name,
    [ATTR.grantType]: call.grantType,
  });
}

/** A client span fails on any 4xx or 5xx, on an answer that is no token response, and on no answer. */
export function endUpstreamSpan(span: Span | undefined, result: UpstreamResult): void {
  if (!span) return;
  const status = 'status' in result ? result.status : undefined;
  let errorType: string | undefined;
  if (status !== undefined && status >= 400) errorType = String(status);
  else if (result.kind !== 'ok') errorType = result.kind;
  span.setAttributes({
    [ATTR.httpResponseStatusCode]: status,
    [ATTR.upstreamOutcome]: result.kind,
    [ATTR.errorType]: errorType,
  });
  span.end(errorType !== undefined);
}
