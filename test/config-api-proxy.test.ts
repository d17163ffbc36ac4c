/**
 * The Web API proxy's configuration (config/api-proxy.ts): API_PROXY_PATHS and an app's
 * apiProxyPaths, SPOTIFY_API_URL and apiUrl. Off by default; nonsense stops start-up with a problem
 * that says what is wrong; a request's path matches a rule segment by segment, never across one.
 */
import { describe, expect, it } from 'vitest';
import { matchProxyRule, parseProxyRules } from '../src/server/config/api-proxy.js';
import { ConfigError, formatProblem, loadConfig } from '../src/server/config/index.js';

const base = {
  SPOTIFY_CLIENT_ID: 'client-id',
  SPOTIFY_CLIENT_SECRET: 'client-secret-value-1234567890',
  SPOTIFY_REDIRECT_URI: 'http://127.0.0.1:8888/callback',
  ENCRYPTION_SECRET: 'sealing-secret-0123456789-abcdefghijklmnop',
};

function problems(env: Record<string, string>, content?: unknown): string[] {
  try {
    loadConfig(env, content === undefined ? {} : { file: { source: 'token-swap.config.json', content } });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map(formatProblem);
  }
  throw new Error('expected a ConfigError');
}

describe('API_PROXY_PATHS', () => {
  it('is off by default, and SPOTIFY_API_URL defaults to the Web API', () => {
    const [app] = loadConfig(base).apps;
    expect(app?.apiProxyPaths).toEqual([]);
    expect(app?.apiUrl).toBe('https://api.spotify.com');
  });

  it('reads METHOD /v1/path entries, with {name} placeholders and any method case', () => {
    const [app] = loadConfig({
      ...base,
      API_PROXY_PATHS: ' GET /v1/me , put /v1/me/player/play,GET /v1/artists/{id}/top-tracks',
    }).apps;
    expect(app?.apiProxyPaths?.map((rule) => `${rule.method} ${rule.path}`)).toEqual([
      'GET /v1/me',
      'PUT /v1/me/player/play',
      'GET /v1/artists/{id}/top-tracks',
    ]);
  });

  it('refuses nonsense at start-up, one problem per entry', () => {
    expect(
      problems({
        ...base,
        API_PROXY_PATHS:
          '/v1/me, FETCH /v1/me, GET v1/me, GET /v1/me?market=SE, GET /v1/../admin, GET /v1/me/, GET /v1/a%2Fb, GET /v1/me, GET /v1/me',
      }),
    ).toEqual([
      'API_PROXY_PATHS: "/v1/me" is not METHOD /v1/path (e.g. "GET /v1/me" or "GET /v1/artists/{id}")',
      'API_PROXY_PATHS: "FETCH /v1/me": the method must be one of GET, POST, PUT, DELETE',
      'API_PROXY_PATHS: "GET v1/me": the path must be a Web API path starting with /v1/',
      'API_PROXY_PATHS: "GET /v1/me?market=SE": a rule holds no query or fragment (the page\'s query string passes through as sent)',
      'API_PROXY_PATHS: "GET /v1/../admin": each path segment is letters, digits and . _ ~ - (not . or ..), or a {name} placeholder for one segment',
      'API_PROXY_PATHS: "GET /v1/me/": each path segment is letters, digits and . _ ~ - (not . or ..), or a {name} placeholder for one segment',
      'API_PROXY_PATHS: "GET /v1/a%2Fb": each path segment is letters, digits and . _ ~ - (not . or ..), or a {name} placeholder for one segment',
      'API_PROXY_PATHS: "GET /v1/me" is listed twice',
    ]);
  });

  it('refuses a plain-http SPOTIFY_API_URL off loopback: the access token travels to it', () => {
    expect(problems({ ...base, SPOTIFY_API_URL: 'http://api.example.com' })).toEqual([
      'SPOTIFY_API_URL: must use https (plain http is allowed on loopback only)',
    ]);
    expect(loadConfig({ ...base, SPOTIFY_API_URL: 'http://127.0.0.1:9000/' }).apps[0]?.apiUrl).toBe(
      'http://127.0.0.1:9000',
    );
  });
});

describe("an app's apiProxyPaths and apiUrl in the apps file", () => {
  const app = {
    clientId: 'web-client',
    clientSecret: 'web-client-secret-0123456789',
    redirectUris: ['http://127.0.0.1:8888/callback'],
    encryptionSecrets: ['sealing-secret-0123456789-abcdefghijklmnop'],
  };

  it('are its own; apiUrl defaults to SPOTIFY_API_URL', () => {
    const config = loadConfig(
      { ...base, API_PROXY_PATHS: 'GET /v1/me', SPOTIFY_API_URL: 'https://web-api.example' },
      {
        file: {
          source: 'token-swap.config.json',
          content: { apps: { web: { ...app, apiProxyPaths: ['GET /v1/me/player'] } } },
        },
      },
    );
    const web = config.apps.find((one) => one.name === 'web');
    expect(web?.apiProxyPaths?.map((rule) => rule.path)).toEqual(['/v1/me/player']);
    expect(web?.apiUrl).toBe('https://web-api.example');
  });

  it('are checked with the same rules, under the field', () => {
    expect(
      problems(base, { apps: { web: { ...app, apiProxyPaths: ['GET /v2/me'], apiUrl: 'ftp://x.example' } } }),
    ).toEqual([
      'token-swap.config.json: apps.web.apiProxyPaths: "GET /v2/me": the path must be a Web API path starting with /v1/',
    ]);
    expect(problems(base, { apps: { web: { ...app, apiUrl: 'http://x.example' } } })).toEqual([
      'token-swap.config.json: apps.web.apiUrl: must use https (plain http is allowed on loopback only)',
    ]);
  });
});

describe('matchProxyRule', () => {
  const { rules } = parseProxyRules(['GET /v1/me', 'GET /v1/artists/{id}', 'PUT /v1/me/player/play']);
  const match = (method: string, path: string) => matchProxyRule(rules, method, path)?.path;

  it('matches literal segments exactly and a placeholder against one segment', () => {
    expect(match('GET', '/v1/me')).toBe('/v1/me');
    expect(match('GET', '/v1/artists/4Z8W4fKeB5YxbusRsdQVPb')).toBe('/v1/artists/{id}');
    expect(match('PUT', '/v1/me/player/play')).toBe('/v1/me/player/play');
  });

  it('never matches across segments, an encoded slash, a dot segment, another method or case', () => {
    for (const [method, path] of [
      ['GET', '/v1/artists/a/b'],
      ['GET', '/v1/artists/a%2Fb'],
      ['GET', '/v1/artists/..'],
      ['GET', '/v1/artists/'],
      ['GET', '/v1/artists/{id}'],
      ['GET', '/v1/ME'],
      ['POST', '/v1/me'],
      ['GET', '/v1/me/'],
    ]) {
      expect(match(method ?? '', path ?? ''), `${method} ${path}`).toBeUndefined();
    }
  });
});
