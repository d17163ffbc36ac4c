/**
 * The Web API proxy's settings (docs/sessions.md, "Web API proxy"): `API_PROXY_PATHS` for the
 * environment's app, `apiProxyPaths` for an app of the file, and `SPOTIFY_API_URL` (`apiUrl`) where
 * the allowed requests go. An allowlist entry is `METHOD /v1/path`; a segment written `{name}` stands
 * for one path segment of the request (an id), everything else must match exactly. A rule never holds
 * a query: the page's query string passes through as it sent it.
 */
import * as z from 'zod/mini';
import { checkAccountsUrl, splitList } from './rules.js';
import { addIssue, preprocess } from './zod-mini.js';

export const DEFAULT_API_URL = 'https://api.spotify.com';

/** The methods the Web API answers on; nothing else can be allowed. */
export const PROXY_METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
export type ProxyMethod = (typeof PROXY_METHODS)[number];

/** One path segment of a rule: literal text, or a `{name}` placeholder for any one segment. */
export type RuleSegment = { literal: string } | { param: string };

export interface ApiProxyRule {
  readonly method: ProxyMethod;
  /** As written, e.g. `/v1/artists/{id}`: what logs and start-up show instead of the request's path. */
  readonly path: string;
  readonly segments: readonly RuleSegment[];
}

/**
 * What a segment may hold, in a rule and in a request a placeholder stands for: the URL's unreserved
 * characters. No `%`, so an encoded `/` (`%2F`) can never smuggle a second segment into one.
 */
const SEGMENT = /^[A-Za-z0-9._~-]+$/;
const PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const EXAMPLE = 'e.g. "GET /v1/me" or "GET /v1/artists/{id}"';

const isMethod = (value: string): value is ProxyMethod =>
  (PROXY_METHODS as readonly string[]).includes(value);

const isPlainSegment = (text: string) => SEGMENT.test(text) && text !== '.' && text !== '..';

function segmentOf(text: string): RuleSegment | undefined {
  const param = PLACEHOLDER.exec(text)?.[1];
  if (param !== undefined) return { param };
  return isPlainSegment(text) ? { literal: text } : undefined;
}

/** One allowlist entry, or the sentence that says why it is none. */
export function parseProxyRule(entry: string): ApiProxyRule | string {
  const shown = entry.trim();
  const parts = shown.split(/\s+/);
  const [rawMethod = '', path = ''] = parts;
  if (parts.length !== 2) return `"${shown}" is not METHOD /v1/path (${EXAMPLE})`;
  const method = rawMethod.toUpperCase();
  if (!isMethod(method)) return `"${shown}": the method must be one of ${PROXY_METHODS.join(', ')}`;
  if (path.includes('?') || path.includes('#')) {
    return `"${shown}": a rule holds no query or fragment (the page's query string passes through as sent)`;
  }
  if (!path.startsWith('/v1/')) return `"${shown}": the path must be a Web API path starting with /v1/`;
  const segments = path.slice(1).split('/').map(segmentOf);
  if (segments.some((segment) => segment === undefined)) {
    return `"${shown}": each path segment is letters, digits and . _ ~ - (not . or ..), or a {name} placeholder for one segment`;
  }
  return { method, path, segments: segments as RuleSegment[] };
}

/** The allowlist, or the problems with it: every entry's, and each one listed twice. */
export function parseProxyRules(entries: readonly string[]): { rules: ApiProxyRule[]; problems: string[] } {
  const rules: ApiProxyRule[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const rule = parseProxyRule(entry);
    if (typeof rule === 'string') {
      problems.push(rule);
      continue;
    }
    // Placeholders match alike whatever their name: `{id}` and `{artist_id}` are the same rule.
    const key = `${rule.method} ${rule.segments.map((s) => ('param' in s ? '{}' : s.literal)).join('/')}`;
    if (seen.has(key)) problems.push(`"${entry.trim()}" is listed twice`);
    seen.add(key);
    rules.push(Object.freeze(rule));
  }
  return { rules, problems };
}

/** The rule a request's method and path (`/v1/...`, as it arrived, still percent-encoded) falls under. */
export function matchProxyRule(
  rules: readonly ApiProxyRule[],
  method: string,
  path: string,
): ApiProxyRule | undefined {
  const parts = path.slice(1).split('/');
  return rules.find(
    (rule) =>
      rule.method === method &&
      rule.segments.length === parts.length &&
      rule.segments.every((segment, i) => {
        const part = parts[i] ?? '';
        return 'param' in segment ? isPlainSegment(part) : part === segment.literal;
      }),
  );
}

/** Turns a rule's sentences into zod issues on the current variable or field. */
function report(ctx: z.core.ParsePayload, problems: readonly string[]) {
  for (const message of problems) addIssue(ctx, message);
}

/** API_PROXY_PATHS: a comma-separated allowlist; unset or blank, the proxy is off. */
export const API_PROXY_PATHS_SCHEMA = preprocess(
  (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
  z.pipe(
    z.optional(z.string()),
    z.transform((value, ctx) => {
      const { rules, problems } = parseProxyRules(splitList(value));
      report(ctx, problems);
      return Object.freeze(rules);
    }),
  ),
);

/** An app's `apiProxyPaths` in the apps file: the same entries, as a JSON array. */
export const FILE_API_PROXY_PATHS = z.pipe(
  z._default(z.array(z.string()), []),
  z.transform((entries, ctx) => {
    const { rules, problems } = parseProxyRules(entries);
    report(ctx, problems);
    return Object.freeze(rules);
  }),
);

/**
 * The Web API base URL: https, or http on loopback (a sandbox), as the Accounts URL, since the user's
 * access token travels in every request to it.
 */
export const checkApiUrl = checkAccountsUrl;
