/**
 * The tracing seam (src/server/tracing.ts) backed by the OpenTelemetry SDK: spans batched and posted
 * over OTLP/HTTP (protobuf or JSON), the caller's W3C trace context continued, the configured sampler.
 * Nothing global is registered: the spans' parent is passed along explicitly, so no context manager
 * (and no async_hooks) is needed.
 *
 * The SDK is loaded only when tracing is configured, as ioredis is only with REDIS_URL
 * (redis/connection.ts): a service that does not trace does not pay for it at start-up.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Context, Span as OtelSpan, Tracer } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, Sampler, SpanExporter } from '@opentelemetry/sdk-trace';
import type { TracingConfig } from '../../server/config/index.js';
import type { Logger } from '../../server/logger.js';
import type { RequestSpan, Span, SpanAttributes, Tracing } from '../../server/tracing.js';

export interface NodeTracing extends Tracing {
  /** Exports the finished spans buffered now; a failure is the log's to tell (never a rejection). */
  flush(): Promise<void>;
  /** Exports what is still buffered, within `SHUTDOWN_BUDGET_MS`, and stops. */
  shutdown(): Promise<void>;
}

export interface NodeTracingOptions {
  logger: Logger;
  /** The service.version of the spans. */
  version: string;
}

/** How long a shutdown waits for the last export: a collector that does not answer must not hold it up. */
export const SHUTDOWN_BUDGET_MS = 5_000;

const requireSdk = createRequire(import.meta.url);
function loadSdk() {
  return {
    api: requireSdk('@opentelemetry/api') as typeof import('@opentelemetry/api'),
    core: requireSdk('@opentelemetry/core') as typeof import('@opentelemetry/core'),
    trace: requireSdk('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace'),
    resources: requireSdk('@opentelemetry/resources') as typeof import('@opentelemetry/resources'),
  };
}
type Sdk = ReturnType<typeof loadSdk>;

function exporterFor(config: TracingConfig): SpanExporter {
  const options = { url: config.endpoint, headers: { ...config.headers } };
  // One exporter package per encoding; only the configured one is loaded.
  const { OTLPTraceExporter } =
    config.protocol === 'http/json'
      ? (requireSdk(
          '@opentelemetry/exporter-trace-otlp-http',
        ) as typeof import('@opentelemetry/exporter-trace-otlp-http'))
      : (requireSdk(
          '@opentelemetry/exporter-trace-otlp-proto',
        ) as typeof import('@opentelemetry/exporter-trace-otlp-proto'));
  return new OTLPTraceExporter(options);
}

function samplerFor(sdk: Sdk, config: TracingConfig): Sampler {
  const { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } = sdk.trace;
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(config.samplerRatio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.samplerRatio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * Tells the log when exports start failing and when they work again, once each: spans are dropped
 * meanwhile, and nobody would know. The error's name and status only: its message may quote the
 * collector's answer.
 */
function reportingExporter(exporter: SpanExporter, logger: Logger, sdk: Sdk): SpanExporter {
  let failing = false;
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      exporter.export(spans, (result) => {
        const failed = result.code !== sdk.core.ExportResultCode.SUCCESS;
        if (failed !== failing) {
          failing = failed;
          if (failed) {
            const status = (result.error as { code?: unknown } | undefined)?.code;
            logger.warn(
              { errorName: result.error?.name, status: typeof status === 'number' ? status : undefined },
              'trace export failed: spans are dropped until the OTLP endpoint accepts them',
            );
          } else {
            logger.info({}, 'trace export works again');
          }
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/** The attributes with a value: the SDK would keep an undefined one as an empty value. */
function defined(attributes: SpanAttributes): Record<string, string | number | boolean> {
  const result: Record<string, string | number | boolean> = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) result[key] = value;
  }
  return result;
}

/** One span of the SDK behind the seam's `Span`. A class: its methods are shared, not made per request. */
class SdkSpan implements Span {
  constructor(
    protected readonly span: OtelSpan,
    protected readonly sdk: Sdk,
  ) {}

  setAttributes(attributes: SpanAttributes): void {
    // The SDK skips undefined values here (unlike at startSpan).
    this.span.setAttributes(attributes as Record<string, string | number | boolean>);
  }

  end(failed: boolean): void {
    if (failed) this.span.setStatus({ code: this.sdk.api.SpanStatusCode.ERROR });
    this.span.end();
  }
}

class SdkRequestSpan extends SdkSpan implements RequestSpan {
  readonly traceId: string;
  readonly spanId: string;
  private parent: Context | undefined;

  constructor(
    span: OtelSpan,
    sdk: Sdk,
    private readonly tracer: Tracer,
  ) {
    super(span, sdk);
    ({ traceId: this.traceId, spanId: this.spanId } = span.spanContext());
  }

  startChild(name: string, attributes: SpanAttributes): Span {
    const { api } = this.sdk;
    this.parent ??= api.trace.setSpan(api.ROOT_CONTEXT, this.span);
    const options = { kind: api.SpanKind.CLIENT, attributes: defined(attributes) };
    return new SdkSpan(this.tracer.startSpan(name, options, this.parent), this.sdk);
  }
}

export function createNodeTracing(config: TracingConfig, options: NodeTracingOptions): NodeTracing {
  const sdk = loadSdk();
  const { api } = sdk;
  const resource = sdk.resources.defaultResource().merge(
    sdk.resources.resourceFromAttributes({
      'service.version': options.version,
      // Tells replicas apart; one per process, as the specification suggests.
      'service.instance.id': randomUUID(),
      ...config.resourceAttributes,
      'service.name': config.serviceName,
    }),
  );
  const exporter = reportingExporter(exporterFor(config), options.logger, sdk);
  const provider = new sdk.trace.TracerProvider({
    resource,
    sampler: samplerFor(sdk, config),
    spanProcessors: [
      new sdk.trace.BatchSpanProcessor({ exporter, scheduledDelayMillis: config.scheduleDelayMs }),
    ],
  });
  const tracer = provider.getTracer('spotify-token-swap', options.version);
  const propagator = new sdk.core.W3CTraceContextPropagator();

  let stopping: Promise<void> | undefined;
  return {
    startRequest(name, attributes, carrier) {
      // The propagator checks the header's shape; a malformed one starts a new trace.
      const parent =
        carrier.traceparent === undefined
          ? api.ROOT_CONTEXT
          : propagator.extract(api.ROOT_CONTEXT, carrier, api.defaultTextMapGetter);
      const span = tracer.startSpan(
        name,
        { kind: api.SpanKind.SERVER, attributes: defined(attributes) },
        parent,
      );
      return new SdkRequestSpan(span, sdk, tracer);
    },
    flush: () => provider.forceFlush().catch(() => {}),
    shutdown() {
      stopping ??= new Promise<void>((resolve) => {
        const budget = setTimeout(() => {
          options.logger.warn({}, 'trace export did not finish in time at shutdown: the last spans are lost');
          resolve();
        }, SHUTDOWN_BUDGET_MS);
        budget.unref();
        provider.shutdown().then(
          () => {
            clearTimeout(budget);
            resolve();
          },
          (error: unknown) => {
            clearTimeout(budget);
            options.logger.warn(
              { errorName: (error as Error | undefined)?.name },
              'trace export failed at shutdown',
            );
            resolve();
          },
        );
      });
      return stopping;
    },
  };
}
