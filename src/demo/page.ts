/** The demo's one HTML page and its Content Security Policy. No inline script: data goes in a JSON block. */

import { escapeHtml } from '../shared/html.js';
import { DEMO_CONFIG_ELEMENT_ID, type DemoConfig, type DemoMode } from './config.js';

/**
 * JSON inside `<script type="application/json">` is raw text: entities are not decoded there, so `<`
 * (which could close the element) and its friends are written as JSON escapes instead.
 */
function jsonForScriptBlock(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A CSP source for a URL: its origin, or its scheme where CSP's host grammar cannot name it (IPv6). */
function cspSource(url: string): string {
  const parsed = new URL(url);
  return parsed.hostname.startsWith('[') ? parsed.protocol : parsed.origin;
}

/** The page may run its own script and talk to the swap service and Accounts, nothing else. */
export function contentSecurityPolicy(connectTo: readonly string[]): string {
  const connect = [...new Set(connectTo.map(cspSource))].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'unsafe-inline'",
    `connect-src 'self' ${connect}`,
    "img-src 'self' data:",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export interface PageInput {
  /** Where the demo is mounted, e.g. `/demo` (empty at the root). */
  basePath: string;
  serviceUrl: string;
  accountsUrl: string;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  mode: DemoMode;
  apiProxy: boolean;
}

const STYLE = `
:root{color-scheme:dark;--bg:#121212;--card:#181818;--line:#2a2a2a;--muted:#a7a7a7;--green:#1db954;--red:#f15e6c}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:#fff;margin:0}
main{max-width:36rem;margin:2.5rem auto;padding:2rem;background:var(--card);border-radius:.75rem}
h1{font-size:1.5rem;margin:.5rem 0 .25rem}
h2{font-size:1rem;margin:1.75rem 0 .5rem}
p{margin:.5rem 0}
.badge{display:inline-block;margin:0;font-size:.75rem;padding:.1rem .6rem;border:1px solid var(--green);color:var(--green);border-radius:1rem}
.muted,.lead{color:var(--muted)}
.lead{margin-bottom:1.5rem}
button{font:inherit;font-weight:700;padding:.7rem 1.4rem;border-radius:2rem;border:1px solid #727272;cursor:pointer;background:none;color:#fff}
button:hover{border-color:#fff}
button.primary{background:var(--green);border-color:var(--green);color:#000}
button.primary:hover{background:#1ed760}
button:disabled{opacity:.5;cursor:progress}
.buttons{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:1.5rem}
.error{margin:1rem 0;padding:.75rem 1rem;border-left:4px solid var(--red);background:#2a1518;color:#ffd6da;border-radius:.25rem;overflow-wrap:anywhere}
.error strong{color:var(--red);font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-weight:600}
.status{color:var(--muted);font-style:italic}
.profile{display:flex;align-items:center;gap:1rem;padding:1rem;background:#222;border-radius:.5rem;min-height:4.5rem}
.avatar{flex:none;width:3rem;height:3rem;border-radius:50%;background:var(--green);color:#000;display:grid;place-items:center;font-weight:800;font-size:1.3rem}
.profile .name{font-weight:700;font-size:1.1rem}
.profile .id{color:var(--muted);font-size:.85rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.75rem 1.25rem;margin:1.5rem 0 0;align-items:center}
dt{color:var(--muted);font-size:.9rem}
dd{margin:0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9rem}
.chip{display:inline-block;white-space:nowrap;margin:.15rem .35rem .15rem 0;padding:.1rem .65rem;border-radius:1rem;background:#2a2a2a;font-size:.8rem;font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.countdown{font-variant-numeric:tabular-nums;font-weight:700;font-size:1.1rem;color:var(--green)}
.countdown.expired{color:var(--red)}
ol{padding-left:1.25rem;margin:.5rem 0;color:#ddd;font-size:.9rem}
li{margin:.25rem 0}
li code{font-size:.8rem;color:#fff;overflow-wrap:anywhere}
.mode{margin:0 0 1rem;font-size:.85rem;color:var(--muted)}
.mode a{color:var(--green)}
.tabs{display:flex;gap:.5rem;margin:1rem 0}
.tabs button{padding:.3rem .9rem;font-weight:600}
.tabs button[aria-selected=true]{border-color:var(--green);color:var(--green)}
#proxy-result{margin-top:1.25rem}
.note{margin-top:1.75rem;padding-top:1rem;border-top:1px solid var(--line);color:var(--muted);font-size:.85rem}
[hidden]{display:none!important}
@media (max-width:32rem){main{margin:0;border-radius:0;padding:1.25rem}dl{grid-template-columns:1fr;gap:.2rem}dd{margin-bottom:.8rem}}
`;

export function renderPage(input: PageInput): string {
  const config: DemoConfig = {
    serviceUrl: input.serviceUrl,
    accountsUrl: input.accountsUrl,
    clientId: input.clientId,
    redirectUri: input.redirectUri,
    scopes: input.scopes,
    homePath: input.basePath || '/',
    mode: input.mode,
    apiProxy: input.apiProxy,
  };
  const swapUrl = escapeHtml(`${input.serviceUrl}/swap`);
  const sessionSwapUrl = escapeHtml(`${input.serviceUrl}/session/swap`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<title>Spotify token swap demo</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
<script type="application/json" id="${DEMO_CONFIG_ELEMENT_ID}">${jsonForScriptBlock(config)}</script>
<script src="${escapeHtml(`${input.basePath}/app.js`)}" defer></script>
</head>
<body>
<main>
<p class="badge">Sandbox demo</p>
<h1>Spotify token swap</h1>
<p class="lead">A browser app logging in with Authorization Code + PKCE. The swap service holds the client secret.</p>
<p id="mode" class="mode" hidden></p>
<noscript><p class="error">This demo needs JavaScript.</p></noscript>
<div id="error" class="error" role="alert" hidden></div>
<p id="status" class="status" role="status" hidden></p>

<section id="logged-out" hidden>
<p id="signed-out" class="muted" role="status" hidden></p>
<button type="button" id="login" class="primary">Log in with Spotify (sandbox)</button>
<p class="muted">You will see the sandbox's consent page, then come back here.</p>
</section>

<section id="logged-in" hidden>
<div id="tabs" class="tabs" role="tablist" hidden>
<button type="button" id="tab-tokens" role="tab" aria-selected="true">Tokens</button>
<button type="button" id="tab-proxy" role="tab" aria-selected="false">Web API proxy</button>
</div>
<div id="proxy-panel" role="tabpanel" hidden>
<p class="muted">The service calls the Web API for this page (<code>${escapeHtml(`${input.serviceUrl}/spotify/v1/...`)}</code>) with the session's access token: the page sends only its cookie, which it cannot read, and holds no token for these calls. The service forwards only what its allowlist (<code>API_PROXY_PATHS</code>) has.</p>
<div class="buttons">
<button type="button" id="proxy-me" class="primary">Call GET /v1/me through the service</button>
<button type="button" id="proxy-off-list">Try GET /v1/me/following (not on the allowlist)</button>
</div>
<div id="proxy-result" class="profile" aria-live="polite" hidden></div>
<p id="proxy-answered" class="muted" role="status" hidden></p>
</div>
<div id="tokens-panel" role="tabpanel">
<div id="profile" class="profile" aria-live="polite"></div>
<dl>
<dt>Granted scopes</dt><dd id="scopes"></dd>
<dt>Access token expires in</dt><dd><span id="expires-in" class="countdown">--:--</span></dd>
<dt>Access token</dt><dd><code id="access-token"></code></dd>
<dt>Refresh token</dt><dd id="refresh-token"></dd>
<dt>Sign in again by</dt><dd id="sign-in-by"></dd>
</dl>
<p id="refreshed" class="muted" role="status" hidden></p>
<div class="buttons">
<button type="button" id="refresh" class="primary"><span data-mode="cookie">Get a token from the service</span><span data-mode="tab" hidden>Refresh access token</span></button>
<button type="button" id="logout">Log out</button>
</div>
<h2>What just happened</h2>
<ol>
<li>Your browser went to <code>${escapeHtml(`${input.accountsUrl}/authorize`)}</code> with a random <code>state</code> and a PKCE <code>code_challenge</code>; you clicked Agree.</li>
<li>Accounts sent it back to <code>${escapeHtml(input.redirectUri)}</code> with a one-time <code>code</code>; this page checked the <code>state</code>.</li>
<li data-mode="cookie">This page posted the code and the PKCE verifier to <code>${sessionSwapUrl}</code>; the service added the client secret, called Accounts' <code>/api/token</code> itself, put the refresh token, sealed, in an HttpOnly cookie, and answered only the access token.</li>
<li data-mode="tab">This page posted the code and the PKCE verifier to <code>${swapUrl}</code>; the service added the client secret and called Accounts' <code>/api/token</code> itself.</li>
<li>The client secret never reached this browser. The profile above came from <code>${escapeHtml(`${input.accountsUrl}/v1/me`)}</code> with the access token.</li>
</ol>
</div>
</section>

<p class="note" data-mode="cookie">Cookie mode: the refresh token stays with the service, sealed in an <code>HttpOnly</code>, <code>SameSite=Strict</code> cookie that no script on this page can read; the page holds only the access token, in memory, and asks the service (<code>POST /session/token</code>) for it after a reload.</p>
<p class="note" data-mode="tab" hidden>Tokens in this tab (the weaker mode): the tokens live in this tab's <code>sessionStorage</code>, where any script running on the page can read them, the refresh token included. Cookie mode keeps the refresh token out of the page.</p>
</main>
</body>
</html>
`;
}
