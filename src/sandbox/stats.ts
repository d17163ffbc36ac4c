/** Counters that let a test see what a swap service actually sent upstream, and how often. */

export type GrantKind = 'authorization_code' | 'refresh_token' | 'client_credentials' | 'other';

export interface TokenRequestSummary {
  /** Null when the request carried no (parseable) grant_type. */
  grantType: string | null;
  hadBasicAuth: boolean;
  contentType: string | null;
  /** Names of the form parameters, never their values: tests assert shape, logs stay free of secrets. */
  params: string[];
  /** Names of the URL query parameters: a swap service must never put a code or token there. */
  queryParams: string[];
}

/** What reached the Web API: header names only, so a test can prove what a proxy forwards and what not. */
export interface WebApiRequestSummary {
  method: string;
  path: string;
  /** Lower-cased names of the request's headers, sorted. */
  headerNames: string[];
  /** Names of the URL query parameters. */
  queryParams: string[];
}

export interface SandboxStats {
  /** Every POST /api/token, faulted or not. */
  tokenRequests: number;
  /** Token requests by grant_type; a missing or unknown one counts as `other`. */
  byGrant: Record<GrantKind, number>;
  /**
   * Distinct TCP connections that carried token requests (where the runtime exposes its socket):
   * a client that reuses keep-alive connections keeps this small.
   */
  tokenConnections: number;
  /** Token requests answered by an injected fault instead of (or, for `slow`, before) the normal answer. */
  faulted: number;
  authorizeRequests: number;
  meRequests: number;
  /** Every request to the Web API's /v1/ paths, faulted or not. */
  webApiRequests: number;
  lastWebApiRequest?: WebApiRequestSummary;
  /** Codes and tokens dropped, oldest first, to keep the store within its bound (store.ts). */
  evicted: number;
  lastTokenRequest?: TokenRequestSummary;
}

export function emptyStats(): SandboxStats {
  return {
    tokenRequests: 0,
    tokenConnections: 0,
    byGrant: { authorization_code: 0, refresh_token: 0, client_credentials: 0, other: 0 },
    faulted: 0,
    authorizeRequests: 0,
    meRequests: 0,
    webApiRequests: 0,
    evicted: 0,
  };
}

export function grantKind(grantType: string | null): GrantKind {
  switch (grantType) {
    case 'authorization_code':
    case 'refresh_token':
    case 'client_credentials':
      return grantType;
    default:
      return 'other';
  }
}
