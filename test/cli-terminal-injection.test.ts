/**
 * Terminal injection (issue 12, point 17): what a hostile swap service or Web API sends never reaches
 * the terminal as a control sequence, and never as a token. The commands run in-process (their `io`
 * captured) against `node:http` peers that answer what an attacker would.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { oneLine, terminalText } from '../src/cli/terminal-text.js';
import { memoryIo } from './helpers/cli-io.js';
import {
  type HostileHandler,
  type HostilePeer,
  sendJson,
  startHostilePeer,
  storedLogin,
} from './helpers/hostile-peer.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const peers: HostilePeer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

async function peer(handler: HostileHandler): Promise<HostilePeer> {
  const started = await startHostilePeer(handler);
  peers.push(started);
  return started;
}

const storePath = () => join(mkdtempSync(join(tmpdir(), 'cli-terminal-')), 'tokens.json');

/** Runs a command against a stored login whose refresh (and profile) the hostile peer answers. */
async function run(command: string, handler: HostileHandler, options: { expired?: boolean } = {}) {
  const hostile = await peer(handler);
  const store = storePath();
  await storedLogin(store, { swapUrl: hostile.url, apiUrl: hostile.url, ...options });
  const io = memoryIo();
  const code = await runCli([command, '--store', store], io);
  return { code, out: io.out(), err: io.err(), hostile };
}

describe('terminalText', () => {
  it('removes escape sequences whole, and every other control character but the line feed', () => {
    const cases: [string, string][] = [
      ['clear\u001b[2J\u001b[Hscreen', 'clearscreen'],
      ['title\u001b]0;owned\u0007set', 'titleset'],
      ['a \u001b]8;;https://evil.example\u001b\\link\u001b]8;;\u001b\\ here', 'a link here'],
      ['8-bit \u009b31mCSI', '8-bit CSI'],
      ['over\rwrite', 'overwrite'],
      ['back\bspace\u007f', 'backspace'],
      ['bell\u0007 tab\t nul\u0000', 'bell tab nul'],
      ['bidi \u202etxt.exe\u202c and \u2066isolate\u2069', 'bidi txt.exe and isolate'],
      ['line\u2028separator\u2029', 'lineseparator'],
      ['two\nlines\n', 'two\nlines\n'],
      ['Sandbox User (sandbox-1), ünïcödé, 日本', 'Sandbox User (sandbox-1), ünïcödé, 日本'],
    ];
    for (const [input, shown] of cases) expect(terminalText(input), JSON.stringify(input)).toBe(shown);
  });

  it('puts a field from the network on one line', () => {
    expect(oneLine('Mallory\nLogged in as admin\n\n!')).toBe('Mallory Logged in as admin !');
  });
});

describe('the CLI facing a hostile swap service or Web API', () => {
  it('prints an error description without the controls that reorder it (terminal injection)', async () => {
    const { code, out, err } = await run('refresh', (_request, response) =>
      sendJson(response, 400, {
        error: 'invalid_request',
        error_description: 'Refused \u202eexe.txt\u202c by\u2028 policy',
      }),
    );
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe(
      'token-swap: The swap service refused the request (invalid_request: Refused exe.txt by policy).\n',
    );
  });

  it('drops an error description that carries escape sequences, and says only the error', async () => {
    const { code, err } = await run('refresh', (_request, response) =>
      sendJson(response, 400, {
        error: 'invalid_request',
        error_description: 'x\u001b]0;owned\u0007\u001b[2J\nFake prompt $ ',
      }),
    );
    expect(code).toBe(1);
    expect(err).toBe('token-swap: The swap service refused the request (invalid_request).\n');
  });

  it('token refuses an access token with a newline or an escape, and prints no token (token injection)', async () => {
    for (const access_token of ['BQok\nrm -rf ~', 'BQ\u001b[2Jok', 'BQ ok', 'BQ\u202eok']) {
      const { code, out, err } = await run('token', (_request, response) =>
        sendJson(response, 200, { access_token, token_type: 'Bearer', expires_in: 3600 }),
      );
      expect(code, JSON.stringify(access_token)).toBe(1);
      expect(out, JSON.stringify(access_token)).toBe('');
      expect(err).toBe(
        'token-swap: The swap service refused the request (invalid_response: The swap service answered with a malformed token response (access_token)).\n',
      );
    }
  });

  it('refuses a scope with escape sequences instead of storing or printing it', async () => {
    const { code, out, err } = await run('refresh', (_request, response) =>
      sendJson(response, 200, {
        access_token: 'BQfresh',
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'user-read-email \u001b[31mstreaming',
      }),
    );
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain('malformed token response (scope)');
  });

  it('status shows a hostile display name on one line, without its escape sequences', async () => {
    const { code, out, hostile } = await run(
      'status',
      (_request, response) =>
        sendJson(response, 200, {
          id: 'evil\u001b[31m',
          display_name: '\u001b[2J\u001b[HMallory\n  Refresh token: none\r\u009b31m\u202e',
        }),
      { expired: false },
    );
    expect(code).toBe(0);
    expect(hostile.requests.map((r) => r.path)).toEqual(['/v1/me']);
    expect(out).not.toMatch(UNSAFE);
    const lines = out.split('\n');
    expect(lines[0]).toBe('Logged in as Mallory Refresh token: none (evil).');
    // The CLI's own lines are all there, each once: none was forged.
    expect(lines.filter((line) => line.startsWith('  Refresh token:'))).toEqual(['  Refresh token: stored']);
    expect(lines.map((line) => line.split(':')[0])).toEqual([
      'Logged in as Mallory Refresh token',
      '  Swap service',
      '  Client ID',
      '  Scopes',
      '  Access token',
      '  Refresh token',
      '  Store',
      '',
    ]);
  });

  it('status reads at most 64 KiB of a profile and shows none from a bigger one', async () => {
    const { code, out } = await run(
      'status',
      (_request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ id: 'big', display_name: 'x'.repeat(100_000) }));
      },
      { expired: false },
    );
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toBe('Logged in as a Spotify user (profile unavailable).');
  });
});
