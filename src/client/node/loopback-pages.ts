/**
 * The pages the loopback catcher shows the browser (plain HTML, no script, every text escaped), and
 * how a page waits for its answer.
 */
import type { ServerResponse } from 'node:http';
import { escapeHtml } from '../../shared/html.js';

type Tone = 'ok' | 'failed' | 'neutral';
const COLOURS: Record<Tone, string> = { ok: '#1ed760', failed: '#f15e6c', neutral: '#b3b3b3' };

export function page(title: string, message: string, tone: Tone): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;background:#121212;color:#eee}
main{max-width:28rem;padding:2rem;border-radius:12px;background:#1e1e1e;text-align:center}
h1{font-size:1.3rem;color:${COLOURS[tone]}}</style></head>
<body><main><h1 id="result">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main></body></html>`;
}

export function answer(response: ServerResponse, status: number, body: string, then?: () => void): void {
  response.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'Referrer-Policy': 'no-referrer',
    Connection: 'close',
  });
  response.end(body, then);
}

export const NEUTRAL = page(
  'Finishing in the terminal',
  'The login continues in your terminal: look there for the result. You can close this window.',
  'neutral',
);

const STILL_WAITING = 'The login in your terminal is still waiting: open the link it printed.';

/** A redirect with another state, or none: an old tab, or a request forged to end the login. */
export const NOT_THIS_LOGIN = page(
  'Not this login',
  `This redirect does not belong to the login waiting here (its state differs): it may come from an old browser tab. ${STILL_WAITING}`,
  'failed',
);

/** A request under another host name: a page of another site rebound to this address, or a typo. */
export function wrongHostPage(origin: string): string {
  return page('Wrong address', `This address answers only as ${origin}. ${STILL_WAITING}`, 'failed');
}

/** More redirects than it keeps arrived before the login started waiting for one. */
export const NOT_WAITING = page(
  'Not ready',
  'The login is not waiting for a redirect yet. Reload this page in a moment.',
  'neutral',
);

/** A browser's page waiting for its answer; answered once, by whoever comes first. */
export interface HeldPage {
  /** False when the page had its answer already (then `then` is not called). */
  send(status: number, body: string, then?: () => void): boolean;
}

/** Bounded: a caller that never calls showResult still gets the browser an honest page. */
export function holdPage(response: ServerResponse, timeoutMs: number): HeldPage {
  let open = true;
  const send = (status: number, body: string, then?: () => void) => {
    if (!open) return false;
    open = false;
    clearTimeout(timer);
    answer(response, status, body, then);
    return true;
  };
  const timer = setTimeout(() => send(200, NEUTRAL), timeoutMs);
  return { send };
}
