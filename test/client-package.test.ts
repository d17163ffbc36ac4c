/**
 * The client kit as its own package (packages/client), the way a browser, React Native or Node app
 * gets it: packed, installed into an empty project, it brings in nothing of the service (its
 * dependencies are the service's, not the app's), a browser bundle of an app that imports it builds
 * from that install alone, and its Node part logs in through a real swap service against the sandbox.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyProject, npmQuiet, pack, packageNames, ROOT, run } from './helpers/npm-project.js';
import { CLIENT_ID, type Stack, startStack } from './helpers/stack.js';

const KIT = 'spotify-token-swap-client';
/** What the service depends on: an app that installs the kit must get none of it. */
const SERVICE_DEPENDENCIES = Object.keys(
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> })
    .dependencies,
);

let project: string;
let files: string[];

beforeAll(async () => {
  // prepack builds the kit with its own tsconfig, as `npm publish -w packages/client` would.
  const packed = await pack(['--workspace', 'packages/client']);
  files = packed.files;
  project = emptyProject();
  await run('npm', ['install', ...npmQuiet, packed.tarball], { cwd: project });
}, 180_000);

describe('the client kit package', () => {
  it('ships its build, README and LICENSE, and no sources, tests or service code', () => {
    expect(files).toContain('dist/client/index.js');
    expect(files).toContain('dist/client/node/index.d.ts');
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']));
    const outside = files.filter((f) => !/^dist\/(client|shared)\//.test(f));
    expect(outside.sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(readFileSync(join(project, 'node_modules', KIT, 'LICENSE'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'LICENSE'), 'utf8'),
    );
  });

  it('installs with no dependencies at all, so none of the service’s', async () => {
    expect(SERVICE_DEPENDENCIES).toEqual(expect.arrayContaining(['pino', 'ioredis', 'prom-client', 'citty']));
    const tree = JSON.parse(await run('npm', ['ls', '--all', '--json'], { cwd: project }));
    expect(packageNames(tree)).toEqual([KIT]);
  });

  it('bundles for a browser from the installed package alone, with nothing of Node or the service', async () => {
    writeFileSync(
      join(project, 'app.js'),
      `import { createAuthorizeUrl, createSwapClient } from '${KIT}';
const auth = await createAuthorizeUrl({ clientId: 'app', redirectUri: 'https://app.example.com/callback' });
createSwapClient({ swapUrl: 'https://swap.example.com' });
console.log(auth.url);
`,
    );
    const result = await build({
      absWorkingDir: project,
      entryPoints: ['app.js'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      outfile: 'bundle.js',
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('app.js');
    expect(
      inputs.filter((input) => input !== 'app.js' && !input.startsWith(`node_modules/${KIT}/dist/`)),
    ).toEqual([]);
    const bundle = readFileSync(join(project, 'bundle.js'), 'utf8');
    for (const name of [...SERVICE_DEPENDENCIES, 'node:']) expect(bundle).not.toContain(`"${name}`);
    // The bundle runs on Web APIs alone (Node has them too): a fresh state and PKCE S256 challenge.
    const url = new URL((await run(process.execPath, ['bundle.js'], { cwd: project })).trim());
    expect(url.origin + url.pathname).toBe('https://accounts.spotify.com/authorize');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  });

  describe('the Node part, from the installed package', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ env: { ENCRYPTION_SECRET: 'kit-package-sealing-secret-0123456789abcdef' } });
    });
    afterAll(() => stack.close());

    it('catches the redirect on loopback, swaps through the service, stores the login and refreshes it', async () => {
      writeFileSync(join(project, 'login.js'), LOGIN_SCRIPT);
      const store = join(project, 'tokens.json');
      const out = await run(
        process.execPath,
        ['login.js', stack.service.url, stack.accounts.url, CLIENT_ID, store],
        { cwd: project, timeoutMs: 30_000 },
      );
      expect(JSON.parse(out)).toEqual({
        page: 200,
        sealed: true,
        refreshed: true,
        scopes: ['user-read-email'],
      });
      expect(statSync(store).mode & 0o777).toBe(0o600);
    });
  });
});

/** A command-line app's login with the kit, as in the README's "The client kit". */
const LOGIN_SCRIPT = `import { createAuthorizeUrl, createSession, createSwapClient, tokenSetFromResponse } from '${KIT}';
import { createFileStore, startLoopbackCatcher } from '${KIT}/node';

const [swapUrl, accountsUrl, clientId, path] = process.argv.slice(2);
// The sandbox's client allows http://127.0.0.1/any-port on any port, as Spotify does a loopback URI.
const catcher = await startLoopbackCatcher({ callbackPath: '/any-port' });
const auth = await createAuthorizeUrl({ clientId, accountsUrl, redirectUri: catcher.redirectUri, scopes: ['user-read-email'] });
const code = catcher.waitForCode({ state: auth.state });
// The browser: the sandbox approves at once and redirects to the catcher, whose page waits for the outcome.
const page = fetch(auth.url);
const client = createSwapClient({ swapUrl });
const tokens = tokenSetFromResponse(
  await client.swap((await code).code, { redirectUri: auth.redirectUri, codeVerifier: auth.codeVerifier }),
);
const store = createFileStore(path);
await store.save({ swapUrl: client.swapUrl, tokens });
catcher.showResult({ ok: true, message: 'Logged in.' });
const status = (await page).status;
await catcher.close();
const refreshed = await createSession({ store }).refresh();
console.log(JSON.stringify({
  page: status,
  sealed: tokens.refreshToken.startsWith('sts2.'),
  refreshed: refreshed.accessToken !== tokens.accessToken,
  scopes: refreshed.scopes,
}));
`;
