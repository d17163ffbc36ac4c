/**
 * What every schema module shares. The schemas use zod's `zod/mini` build, whose functions a bundler
 * keeps only when used: the full `zod` namespace brings every schema kind and all its locales into the
 * Worker bundle (docs/benchmarks.md, "Cloudflare Workers"). Mini registers no messages of its own, so
 * English ones, the same as full zod's, are registered here once for every module that imports this one.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());

/** A problem found inside a `z.transform`: what full zod's `ctx.addIssue({ code: 'custom', ... })` did. */
export function addIssue(ctx: z.core.ParsePayload, message: string): void {
  ctx.issues.push({ code: 'custom', message, input: ctx.value });
}

/** `fn`, then `schema` on what it returns: full zod's `z.preprocess`, which mini has not. */
export function preprocess<T extends z.core.$ZodType>(
  fn: (value: unknown) => unknown,
  schema: T,
): z.ZodMiniPipe<z.ZodMiniTransform<unknown, unknown>, T> {
  return z.pipe<z.ZodMiniTransform<unknown, unknown>, T>(z.transform(fn), schema);
}
