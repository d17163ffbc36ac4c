/**
 * A sealed token (or a shared answer, sealed alike) with its second to last character changed: `A` to
 * `B`, anything else to `A`. That character carries six bits of the AES-GCM tag, so the result always
 * differs from the token and never opens; a fixed text written there instead (`AA`) leaves one token
 * in 4,096 as it was.
 */
export function withSecondToLastFlipped(sealed: string): string {
  return `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.slice(-1)}`;
}
