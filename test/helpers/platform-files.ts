/**
 * The deployment files as their platforms read them: render.yaml (YAML), fly.toml and wrangler.toml
 * (TOML), .dev.vars.example (dotenv), each parsed and checked against the fields this project uses.
 * The schemas are strict: a field they do not list (a typo, or a `dockerCommand` or `[processes]` that
 * would replace the image's CMD) fails the test. Add a field here when the file needs it, after
 * checking the platform's reference for it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const renderEnvVar = z.union([
  z.object({ key: z.string(), value: z.string() }).strict(),
  z.object({ key: z.string(), sync: z.literal(false) }).strict(),
  z.object({ key: z.string(), generateValue: z.literal(true) }).strict(),
]);

const renderBlueprint = z
  .object({
    services: z
      .array(
        z
          .object({
            type: z.literal('web'),
            name: z.string().regex(/^[a-z0-9-]+$/),
            runtime: z.literal('docker'),
            dockerfilePath: z.string(),
            dockerContext: z.string(),
            plan: z.string(),
            healthCheckPath: z.string().startsWith('/'),
            envVars: z.array(renderEnvVar),
          })
          .strict(),
      )
      .length(1),
  })
  .strict();

const duration = z.string().regex(/^\d+(ms|s|m)$/);

const flyConfig = z
  .object({
    app: z.string().regex(/^[a-z0-9-]+$/),
    kill_signal: z.enum(['SIGTERM', 'SIGINT']),
    kill_timeout: z.number().int().positive().max(300),
    build: z.object({ dockerfile: z.string() }).strict(),
    env: z.record(z.string(), z.string()),
    http_service: z
      .object({
        internal_port: z.number().int(),
        force_https: z.literal(true),
        auto_stop_machines: z.enum(['off', 'stop', 'suspend']),
        auto_start_machines: z.boolean(),
        min_machines_running: z.number().int().min(1),
        checks: z
          .array(
            z
              .object({
                method: z.literal('GET'),
                path: z.string().startsWith('/'),
                interval: duration,
                timeout: duration,
                grace_period: duration,
              })
              .strict(),
          )
          .min(1),
      })
      .strict(),
    vm: z.array(z.object({ memory: z.string(), cpu_kind: z.string(), cpus: z.number().int() }).strict()),
  })
  .strict();

const wranglerConfig = z
  .object({
    name: z.string().regex(/^[a-z0-9-]+$/),
    main: z.string(),
    no_bundle: z.literal(true),
    compatibility_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    build: z.object({ command: z.string(), watch_dir: z.string() }).strict(),
    observability: z.object({ enabled: z.boolean() }).strict(),
    vars: z.record(z.string(), z.string()),
    ratelimits: z.array(
      z
        .object({
          name: z.string(),
          namespace_id: z.string().regex(/^\d+$/),
          simple: z.object({
            limit: z.number().int().positive(),
            period: z.union([z.literal(10), z.literal(60)]),
          }),
        })
        .strict(),
    ),
    durable_objects: z
      .object({ bindings: z.array(z.object({ name: z.string(), class_name: z.string() }).strict()) })
      .strict(),
    migrations: z.array(z.object({ tag: z.string(), new_sqlite_classes: z.array(z.string()) }).strict()),
  })
  .strict();

export type RenderBlueprint = z.infer<typeof renderBlueprint>;
export type FlyConfig = z.infer<typeof flyConfig>;
export type WranglerConfig = z.infer<typeof wranglerConfig>;

const read = (root: string, file: string) => readFileSync(join(root, file), 'utf8');

export const readRenderBlueprint = (root: string) =>
  renderBlueprint.parse(parseYaml(read(root, 'render.yaml')));
export const readFlyConfig = (root: string) => flyConfig.parse(parseToml(read(root, 'fly.toml')));
export const readWranglerConfig = (root: string) =>
  wranglerConfig.parse(parseToml(read(root, 'wrangler.toml')));

/** The names a dotenv file sets (`KEY=value`, `# comments`), in order. */
export function dotenvNames(root: string, file: string): string[] {
  return read(root, file)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const name = /^([A-Z_][A-Z0-9_]*)=/.exec(line)?.[1];
      if (!name) throw new Error(`${file}: "${line}" is not a KEY=value line`);
      return name;
    });
}
