/** Reads the configuration the page wrote into its JSON block. */
import { DEMO_CONFIG_ELEMENT_ID, DEMO_MODES, type DemoConfig, type DemoMode } from '../config.js';

const isString = (value: unknown): value is string => typeof value === 'string';
const isMode = (value: unknown): value is DemoMode => DEMO_MODES.includes(value as DemoMode);

export function readConfig(document: Document): DemoConfig {
  const text = document.getElementById(DEMO_CONFIG_ELEMENT_ID)?.textContent ?? '';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const config = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const { serviceUrl, accountsUrl, clientId, redirectUri, scopes, homePath, mode, apiProxy } = config;
  if (
    !isString(serviceUrl) ||
    !isString(accountsUrl) ||
    !isString(clientId) ||
    !isString(redirectUri) ||
    !Array.isArray(scopes) ||
    !scopes.every(isString) ||
    !isString(homePath) ||
    !isMode(mode) ||
    typeof apiProxy !== 'boolean'
  ) {
    throw new Error(`demo: the page has no valid #${DEMO_CONFIG_ELEMENT_ID} block`);
  }
  return { serviceUrl, accountsUrl, clientId, redirectUri, scopes, homePath, mode, apiProxy };
}
