/** The sandbox's test-only control endpoint, over HTTP as any test client would use it. */

interface FaultOptions {
  count?: number;
  /** The token endpoint (default), or any of the sandbox's Web API endpoints. */
  target?: 'token' | 'web-api';
}

export type Fault = FaultOptions &
  (
    | { kind: 'slow'; delayMs: number }
    | { kind: 'status'; status: number; body?: string; contentType?: string }
    | { kind: 'rate-limit'; retryAfter: number | string; reason?: string }
    | { kind: 'drop' }
    | { kind: 'garbage' }
  );

export async function injectFault(accountsUrl: string, fault: Fault | Fault[]): Promise<void> {
  const response = await fetch(`${accountsUrl}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(fault),
  });
  if (response.status !== 204) {
    throw new Error(`fault injection failed: ${response.status} ${await response.text()}`);
  }
}

/** How many calls reached the sandbox's token endpoint so far. */
export async function tokenCalls(accountsUrl: string): Promise<number> {
  const response = await fetch(`${accountsUrl}/__sandbox/stats`);
  const stats = (await response.json()) as { tokenRequests: number };
  return stats.tokenRequests;
}

/** Moves the authorization of the login an access token belongs to `seconds` into the past. */
export async function ageLogin(accountsUrl: string, accessToken: string, seconds: number): Promise<void> {
  const response = await fetch(`${accountsUrl}/__sandbox/age`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ accessToken, seconds }),
  });
  if (response.status !== 200) {
    throw new Error(`ageing failed: ${response.status} ${await response.text()}`);
  }
}
