/**
 * The one export of workerd's built-in `cloudflare:workers` module the entry reads (workers.ts). Typed
 * here, like platform.ts, rather than with @cloudflare/workers-types. Optional: workerd releases
 * before March 2025 have no `env` export (an import of the namespace then has it undefined).
 */
declare module 'cloudflare:workers' {
  /** The Worker's bindings, readable at module start (not only inside a request). */
  export const env: Record<string, unknown> | undefined;
}
