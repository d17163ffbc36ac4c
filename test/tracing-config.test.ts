/**
 * Which OTEL_* variables turn tracing on, where spans go, and what a bad value says: the meaning the
 * OpenTelemetry specification gives them (src/server/config/tracing.ts).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, formatProblem, loadConfig } from '../src/server/config/index.js';
import { SECRET_A } from './helpers/stack.js';

const base = {
  SPOTIFY_CLIENT_ID: 'client-id',
  SPOTIFY_CLIENT_SECRET: 'client-secret-value-1234567890',
  SPOTIFY_REDIRECT_URI: 'http://127.0.0.1:8888/callback',
  ENCRYPTION_SECRET: SECRET_A,
};

const tracing = (env: Record<string, string>) => loadConfig({ ...base, ...env }).tracing;

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map(formatProblem);
  }
  throw new Error('expected a ConfigError');
}

describe('tracing is opt-in', () => {
  it('is off without an OTLP endpoint or OTEL_TRACES_EXPORTER=otlp', () => {
    expect(tracing({})).toBeUndefined();
    expect(tracing({ OTEL_SERVICE_NAME: 'swap', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBeUndefined();
  });

  it('is on with an endpoint, with the specification’s defaults', () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({
      endpoint: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: {},
      serviceName: 'spotify-token-swap',
      resourceAttributes: {},
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
      scheduleDelayMs: 5_000,
    });
  });

  it('is on with OTEL_TRACES_EXPORTER=otlp alone, to a collector on the same machine', () => {
    expect(tracing({ OTEL_TRACES_EXPORTER: 'otlp' })?.endpoint).toBe('http://localhost:4318/v1/traces');
  });

  it.each([
    ['OTEL_SDK_DISABLED=true', { OTEL_SDK_DISABLED: 'TRUE' }],
    ['OTEL_TRACES_EXPORTER=none', { OTEL_TRACES_EXPORTER: 'none' }],
  ])('is off with %s, whatever else is set', (_, off) => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', ...off })).toBeUndefined();
  });

  it('reads any other OTEL_SDK_DISABLED value as false, as the specification says', () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'yes' })).toBeDefined();
  });
});

describe('where spans go', () => {
  it('appends v1/traces to the base URL, with or without its trailing slash', () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com/otlp/' })?.endpoint).toBe(
      'https://otlp.example.com/otlp/v1/traces',
    );
  });

  it('uses the traces endpoint as is, and the traces variables before the general ones', () => {
    expect(
      tracing({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://general:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom/path',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-team=swap,x-key=general',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-key=traces%3D1',
      }),
    ).toMatchObject({
      endpoint: 'http://traces:4318/custom/path',
      protocol: 'http/json',
      headers: { 'x-team': 'swap', 'x-key': 'traces=1' },
    });
  });

  it('names the service from OTEL_SERVICE_NAME, else from the resource attributes', () => {
    const attributes = 'service.name=from-attributes,deployment.environment.name=prod%20eu';
    expect(tracing({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_RESOURCE_ATTRIBUTES: attributes })).toMatchObject({
      serviceName: 'from-attributes',
      resourceAttributes: { 'service.name': 'from-attributes', 'deployment.environment.name': 'prod eu' },
    });
    expect(
      tracing({
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_RESOURCE_ATTRIBUTES: attributes,
        OTEL_SERVICE_NAME: 'swap-eu',
      })?.serviceName,
    ).toBe('swap-eu');
  });

  it('takes the sampler and its ratio', () => {
    expect(
      tracing({
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }),
    ).toMatchObject({ sampler: 'parentbased_traceidratio', samplerRatio: 0.25 });
  });
});

describe('a bad OTEL_* value', () => {
  it('is refused with a message naming the variable', () => {
    expect(
      problems({
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317',
        OTEL_TRACES_SAMPLER: 'jaeger_remote',
        OTEL_TRACES_SAMPLER_ARG: '2',
        OTEL_BSP_SCHEDULE_DELAY: 'soon',
      }),
    ).toEqual([
      'OTEL_TRACES_EXPORTER: must be otlp or none (this service exports OTLP only)',
      'OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:// or https:// URL',
      'OTEL_EXPORTER_OTLP_PROTOCOL: must be http/protobuf or http/json (this service exports OTLP over HTTP)',
      expect.stringMatching(/^OTEL_TRACES_SAMPLER: must be one of always_on, /),
      'OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1',
      'OTEL_BSP_SCHEDULE_DELAY: must be a whole number of milliseconds',
    ]);
  });

  it('never echoes an export header or an endpoint, which may hold an API key', () => {
    const found = problems({
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=fine,api-key-without-equals-sign-s3cr3t',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-api-key=%E0%A4%A-s3cr3t',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://collector/?token=s3cr3t',
    });
    expect(found).toEqual([
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: must be an http:// or https:// URL',
      'OTEL_EXPORTER_OTLP_HEADERS: entry #2 is not key=value (percent-encoded)',
      'OTEL_EXPORTER_OTLP_TRACES_HEADERS: entry #1 is not key=value (percent-encoded)',
    ]);
    expect(found.join('\n')).not.toContain('s3cr3t');
  });
});
