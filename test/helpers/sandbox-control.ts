/** The sandbox's test-only control endpoint, over HTTP as any test client would use it. */

export type Fault =
  | { kind: 'slow'; delayMs: number; count?: number }
  | { kind: 'status'; status: number; body?: string; contentType?: string; count?: number }
  | { kind: 'rate-limit'; retryAfter: number | string; count?: number }
  | { kind: 'drop'; count?: number }
  | { kind: 'garbage'; count?: number };

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
