/** What `login` says before it starts (plain http is for this machine only), and its hints' command. */
import { describe, expect, it } from 'vitest';
import { warnIfInsecure } from '../src/cli/login-checks.js';
import { loginCommand } from '../src/cli/login-command.js';

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

describe('the login command a hint prints', () => {
  it('holds every value known, quoted where a shell needs it, and placeholders for the rest', () => {
    expect(loginCommand({})).toBe('token-swap login --swap-url URL --client-id ID');
    expect(
      loginCommand({
        swapUrl: 'http://127.0.0.1:3000',
        clientId: 'sandbox-client-id',
        accountsUrl: 'http://127.0.0.1:3000/sandbox',
        scope: 'user-read-email streaming',
        port: 8888,
        store: "/home/me/it's here/tokens.json",
      }),
    ).toBe(
      "token-swap login --swap-url http://127.0.0.1:3000 --client-id sandbox-client-id --accounts-url http://127.0.0.1:3000/sandbox --scope 'user-read-email streaming' --port 8888 --store '/home/me/it'\\''s here/tokens.json'",
    );
    // Spotify's own Accounts is the default: no flag for it.
    expect(
      loginCommand({ swapUrl: 'https://swap.example.com', accountsUrl: 'https://accounts.spotify.com' }),
    ).toBe('token-swap login --swap-url https://swap.example.com --client-id ID');
  });
});
