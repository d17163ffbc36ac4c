/**
 * The OpenTelemetry variables the service honours, each with the meaning OpenTelemetry gives it
 * (docs/observability.md, "Turning it on", lists them), and the tracing configuration they come to.
 * Tracing is opt-in: it is on when an OTLP endpoint is set or `OTEL_TRACES_EXPORTER=otlp`, unless
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. Export headers often hold an API key: no
 * message echoes a value.
 */
import * as z from 'zod/mini';
import { addIssue, preprocess } from './zod-mini.js';

export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export interface TracingConfig {
  /** The OTLP/HTTP traces URL spans are posted to. */
  readonly endpoint: string;
  readonly protocol: OtlpProtocol;
  /** Sent with every export; may hold an API key. */
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  /** From OTEL_RESOURCE_ATTRIBUTES, on every span's resource. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: SamplerName;
  /** The sampling ratio of the `traceidratio` samplers, 0 to 1. */
  readonly samplerRatio: number;
  /** How long finished spans wait in the buffer before they are posted (a full batch goes at once). */
  readonly scheduleDelayMs: number;
}

export const TRACING_ENV = {
  OTEL_SDK_DISABLED: '`true` turns tracing off whatever else is set',
  OTEL_TRACES_EXPORTER: '`otlp` or `none`',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'OTLP/HTTP base URL; traces go to its /v1/traces',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'OTLP/HTTP traces URL, used as is',
  OTEL_EXPORTER_OTLP_PROTOCOL: '`http/protobuf` or `http/json`',
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'The protocol for traces only',
  OTEL_EXPORTER_OTLP_HEADERS: 'Headers of every export, `key=value,...`',
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'Headers of trace exports only',
  OTEL_SERVICE_NAME: 'The service.name of the spans',
  OTEL_RESOURCE_ATTRIBUTES: 'Resource attributes, `key=value,...`',
  OTEL_TRACES_SAMPLER: 'Sampler (default parentbased_always_on)',
  OTEL_TRACES_SAMPLER_ARG: 'Ratio of the traceidratio samplers, 0 to 1',
  OTEL_BSP_SCHEDULE_DELAY: 'Milliseconds between two exports of the buffered spans',
} as const;

/** The specification's default for OTLP/HTTP: a collector on the same machine. */
const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';
const DEFAULT_SERVICE_NAME = 'spotify-token-swap';

const blank = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const lowercase = (value: unknown) =>
  typeof value === 'string' ? value.trim().toLowerCase() || undefined : value;

/** `key=value,key=value` with percent-encoded values (the W3C Baggage format the specification uses). */
const keyValueList = preprocess(
  blank,
  z.pipe(
    z.optional(z.string()),
    z.transform((value, ctx) => {
      const pairs: Record<string, string> = {};
      const entries = (value ?? '').split(',').filter((entry) => entry.trim() !== '');
      entries.forEach((entry, index) => {
        const at = entry.indexOf('=');
        const key = entry.slice(0, at).trim();
        try {
          if (at < 1 || key === '') throw new URIError();
          pairs[key] = decodeURIComponent(entry.slice(at + 1).trim());
        } catch {
          // The entry's position only: a value may be an API key.
          addIssue(ctx, `entry #${index + 1} is not key=value (percent-encoded)`);
        }
      });
      return pairs;
    }),
  ),
);

const otlpUrl = preprocess(
  blank,
  z.optional(z.string()).check(
    z.refine((value) => value === undefined || /^https?:\/\/[^\s]+$/.test(value.trim()), {
      // The URL may hold a token in its query: say what is wrong without echoing it.
      error: 'must be an http:// or https:// URL',
    }),
  ),
);

const otlpProtocol = preprocess(
  lowercase,
  z.optional(
    z.enum(OTLP_PROTOCOLS, {
      error: 'must be http/protobuf or http/json (this service exports OTLP over HTTP)',
    }),
  ),
);

export const TRACING_ENV_SCHEMA = {
  // The specification: "true", in any case, is true; anything else is false.
  OTEL_SDK_DISABLED: z.pipe(
    preprocess(lowercase, z.optional(z.string())),
    z.transform((value) => value === 'true'),
  ),
  OTEL_TRACES_EXPORTER: preprocess(
    lowercase,
    z.optional(z.enum(['otlp', 'none'], { error: 'must be otlp or none (this service exports OTLP only)' })),
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl,
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol,
  OTEL_EXPORTER_OTLP_HEADERS: keyValueList,
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: keyValueList,
  OTEL_SERVICE_NAME: preprocess(blank, z.optional(z.string().check(z.trim()))),
  OTEL_RESOURCE_ATTRIBUTES: keyValueList,
  OTEL_TRACES_SAMPLER: preprocess(
    lowercase,
    z._default(z.enum(SAMPLERS, { error: `must be one of ${SAMPLERS.join(', ')}` }), 'parentbased_always_on'),
  ),
  OTEL_TRACES_SAMPLER_ARG: preprocess(
    blank,
    z._default(
      z.coerce
        .number({ error: 'must be a number from 0 to 1' })
        .check(
          z.minimum(0, { error: 'must be a number from 0 to 1' }),
          z.maximum(1, { error: 'must be a number from 0 to 1' }),
        ),
      1,
    ),
  ),
  OTEL_BSP_SCHEDULE_DELAY: preprocess(
    blank,
    z._default(
      z.coerce
        .number({ error: 'must be a whole number of milliseconds' })
        .check(
          z.int({ error: 'must be a whole number of milliseconds' }),
          z.minimum(0, { error: 'must be at least 0' }),
          z.maximum(3_600_000, { error: 'must be at most 3600000' }),
        ),
      5_000,
    ),
  ),
} satisfies Record<keyof typeof TRACING_ENV, z.ZodMiniType>;

export type TracingEnvValues = {
  [K in keyof typeof TRACING_ENV_SCHEMA]: z.output<(typeof TRACING_ENV_SCHEMA)[K]>;
};

/** The signal's own URL, else the base URL with `v1/traces` appended, as the specification says. */
function tracesEndpoint(vars: TracingEnvValues): string {
  const own = vars.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (own !== undefined) return own;
  const base = vars.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() ?? DEFAULT_OTLP_ENDPOINT;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** What the variables come to: undefined when tracing is off. */
export function tracingConfig(vars: TracingEnvValues): TracingConfig | undefined {
  const exporter = vars.OTEL_TRACES_EXPORTER;
  const endpointSet =
    vars.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || vars.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
  if (vars.OTEL_SDK_DISABLED || exporter === 'none' || (exporter === undefined && !endpointSet)) {
    return undefined;
  }
  const resourceAttributes = Object.freeze({ ...vars.OTEL_RESOURCE_ATTRIBUTES });
  return Object.freeze({
    endpoint: tracesEndpoint(vars),
    protocol: vars.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? vars.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    headers: Object.freeze({ ...vars.OTEL_EXPORTER_OTLP_HEADERS, ...vars.OTEL_EXPORTER_OTLP_TRACES_HEADERS }),
    serviceName: vars.OTEL_SERVICE_NAME ?? resourceAttributes['service.name'] ?? DEFAULT_SERVICE_NAME,
    resourceAttributes,
    sampler: vars.OTEL_TRACES_SAMPLER,
    samplerRatio: vars.OTEL_TRACES_SAMPLER_ARG,
    scheduleDelayMs: vars.OTEL_BSP_SCHEDULE_DELAY,
  });
}
