import { expect } from 'vitest';
import { CLIENT_SECRET, SECRET_A } from '../helpers/stack.js';

/** A runtime's output (logs, banners) never holds the client secret or the sealing secret. */
export function expectNoSecrets(output: string): void {
  expect(output.length).toBeGreaterThan(0);
  expect(output).not.toContain(CLIENT_SECRET);
  expect(output).not.toContain(SECRET_A);
}
