/**
 * What the page hands its script: the page writes it into a JSON block (no inline script under the
 * CSP), the script reads it back. One type for both sides, so they cannot drift apart.
 */

export const DEMO_CONFIG_ELEMENT_ID = 'demo-config';

/**
 * Where the page keeps the login: `cookie` (the default), the service's session endpoints, with the
 * refresh token in an HttpOnly cookie the page cannot read (docs/sessions.md); `tab`, the weaker
 * one, with the tokens in the tab's sessionStorage, where any script on the page can read them.
 */
export type DemoMode = 'cookie' | 'tab';

export const DEMO_MODES: readonly DemoMode[] = ['cookie', 'tab'];

export interface DemoConfig {
  /** Base URL of the swap service (POST /swap, POST /refresh). */
  serviceUrl: string;
  /** Base URL of the (sandbox) Accounts: `/authorize`, and `/v1/me` for the profile. */
  accountsUrl: string;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  /** The page's own URL without the callback's query, e.g. `/demo`. */
  homePath: string;
  /** The mode of a page opened without `?mode=`. */
  mode: DemoMode;
  /** Whether the service proxies the Web API (`/spotify/v1/...`): only then the proxy tab shows. */
  apiProxy: boolean;
}
