/** What `login` says about the swap URL before it starts: plain http is for this machine only. */
import { describe, expect, it } from 'vitest';
import { warnIfInsecure } from '../src/cli/login-checks.js';

function warning(swapUrl: string): string {
  let written = '';
  warnIfInsecure(swapUrl, { write: (text: string) => (written += text) });
  return written;
}

describe('login --swap-url over plain http', () => {
  it('warns when the code and the tokens would cross the network unencrypted', () => {
    expect(warning('http://swap.example.com')).toBe(
      'Warning: --swap-url http://swap.example.com is plain http to a host that is not this machine: the authorization code and the tokens would cross the network unencrypted. Use https://swap.example.com instead.\n',
    );
    expect(warning('http://192.168.1.20:3000/apps/cli')).toContain(
      'Use https://192.168.1.20:3000/apps/cli instead.',
    );
  });

  it('says nothing for https, or for plain http that stays on this machine', () => {
    for (const url of [
      'https://swap.example.com',
      'http://127.0.0.1:3000',
      'http://127.0.0.53:3000',
      'http://[::1]:3000',
      'http://localhost:3000',
    ]) {
      expect([url, warning(url)]).toEqual([url, '']);
    }
  });
});
