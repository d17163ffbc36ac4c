/**
 * What the page hands its script: the page writes it into a JSON block (no inline script under the
 * CSP), the script reads it back. One type for both sides, so they cannot drift apart.
 */

export const DEMO_CONFIG_ELEMENT_ID = 'demo-config';

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
}
