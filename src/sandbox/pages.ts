/** The HTML the sandbox shows a person: the consent page and the refusal pages of /authorize. */
import { escapeHtml } from '../shared/html.js';

/** What each scope lets the app do, in the words a user would expect on a consent page. */
const SCOPE_WORDS: Record<string, string> = {
  'ugc-image-upload': 'Upload images to your profile and playlists',
  'user-read-playback-state': 'See what you are playing and on which device',
  'user-modify-playback-state': 'Control playback on your devices',
  'user-read-currently-playing': 'See the track you are currently playing',
  'app-remote-control': 'Control the Spotify app on your devices',
  streaming: 'Play music in this app',
  'playlist-read-private': 'See your private playlists',
  'playlist-read-collaborative': 'See your collaborative playlists',
  'playlist-modify-private': 'Create and change your private playlists',
  'playlist-modify-public': 'Create and change your public playlists',
  'user-follow-modify': 'Follow and unfollow artists and users for you',
  'user-follow-read': 'See whom you follow',
  'user-read-playback-position': 'See where you are in episodes and audiobooks',
  'user-top-read': 'See your top artists and tracks',
  'user-read-recently-played': 'See what you played recently',
  'user-library-modify': 'Save and remove items in your library',
  'user-library-read': 'See what you saved in your library',
  'user-read-email': 'See your email address',
  'user-read-private': 'See your subscription, country and explicit-content settings',
};

function describeScope(scope: string): string {
  return SCOPE_WORDS[scope] ?? scope;
}

const STYLE = `
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#121212;color:#fff;margin:0}
main{max-width:28rem;margin:3rem auto;padding:2rem;background:#181818;border-radius:.5rem}
h1{font-size:1.4rem;margin:0 0 1rem}
.badge{display:inline-block;font-size:.75rem;padding:.1rem .5rem;border:1px solid #1db954;color:#1db954;border-radius:1rem}
code{font-size:.85rem;color:#b3b3b3;word-break:break-all}
ul{padding-left:1.2rem}
.buttons{display:flex;gap:1rem;margin-top:1.5rem}
button{flex:1;font:inherit;font-weight:700;padding:.75rem;border-radius:2rem;border:1px solid #727272;cursor:pointer;background:none;color:#fff}
button#agree{background:#1db954;border-color:#1db954;color:#000}
.error{color:#f15e6c}
`;

/**
 * Only inline style, and forms that post back here. `extraFormTarget` names where the consent form's
 * redirect may land: browsers check form-action on the redirect after a submission too, so without it
 * the 302 back to the app would be blocked.
 */
function contentSecurityPolicy(extraFormTarget?: string): string {
  const formAction = extraFormTarget ? `'self' ${extraFormTarget}` : `'self'`;
  return `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; base-uri 'none'; frame-ancestors 'none'`;
}

/** A CSP source matching the redirect URI: its origin, or its scheme where CSP cannot name the host. */
function cspSourceFor(redirectUri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return undefined;
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    // CSP's host-source grammar has no IPv6 literals, so http://[::1] can only be allowed by scheme.
    return url.hostname.startsWith('[') ? url.protocol : url.origin;
  }
  return /^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) ? url.protocol : undefined;
}

function render(status: number, title: string, body: string, formTarget?: string): Response {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="badge">Spotify Accounts sandbox</p>
${body}
</main>
</body>
</html>
`;
  return new Response(html, {
    status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': contentSecurityPolicy(formTarget),
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

/** Spotify shows these as a page rather than redirecting, since the redirect URI cannot be trusted. */
export function refusalPage(message: string, status = 400): Response {
  return render(status, message, `<h1 class="error">${escapeHtml(message)}</h1>`);
}

export interface ConsentPageInput {
  appName: string;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  /** The original /authorize parameters, posted back as hidden fields. */
  fields: ReadonlyArray<readonly [string, string]>;
}

export function consentPage(input: ConsentPageInput): Response {
  const scopes =
    input.scopes.length === 0
      ? '<li>Nothing beyond your public profile (no scopes requested)</li>'
      : input.scopes
          .map((scope) => `<li>${escapeHtml(describeScope(scope))} <code>${escapeHtml(scope)}</code></li>`)
          .join('\n');
  const hidden = input.fields
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const body = `<h1>${escapeHtml(input.appName)} wants to use your Spotify account</h1>
<p>Client ID <code>${escapeHtml(input.clientId)}</code></p>
<p>It will be allowed to:</p>
<ul>
${scopes}
</ul>
<p>You will be sent back to <code>${escapeHtml(input.redirectUri)}</code></p>
<form method="post" action="authorize">
${hidden}
<div class="buttons">
<button type="submit" id="cancel" name="decision" value="cancel">Cancel</button>
<button type="submit" id="agree" name="decision" value="agree">Agree</button>
</div>
</form>`;
  return render(200, `Authorize ${input.appName}`, body, cspSourceFor(input.redirectUri));
}
