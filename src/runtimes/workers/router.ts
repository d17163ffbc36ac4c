/**
 * Hono's default router (SmartRouter over RegExpRouter) only records routes as they are added: its first
 * match adds them all and compiles the matcher. In a fresh Workers isolate that was about three
 * quarters of the first request's CPU (docs/benchmarks.md, "Cloudflare Workers"). A match needs no
 * Request, so the Worker's module start can pay for it instead, once the app has every route.
 */
import type { Hono } from 'hono';

/** Compiles `app`'s router now. No route can be added to `app` afterwards (Hono throws). */
export function compileRouter(app: Pick<Hono, 'router'>): void {
  app.router.match('GET', '/');
}
