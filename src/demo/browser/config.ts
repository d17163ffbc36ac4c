/** Reads the configuration the page wrote into its JSON block. */
import { DEMO_CONFIG_ELEMENT_ID, type DemoConfig } from '../config.js';

const isString = (value: unknown): value is string => typeof value === 'string';

export function readConfig(document: Document): DemoConfig {
  const text = document.getElementById(DEMO_CONFIG_ELEMENT_ID)?.textContent ?? '';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const config = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const { serviceUrl, accountsUrl, clientId, redirectUri, scopes, homePath } = config;
  if (
    !isString(serviceUrl) ||
    !isString(accountsUrl) ||
    !isString(clientId) ||
    !isString(redirectUri) ||
    !Array.isArray(scopes) ||
    !scopes.every(isString) ||
    !isString(homePath)
  ) {
    throw new Error(`demo: the page has no valid #${DEMO_CONFIG_ELEMENT_ID} block`);
  }
  return { serviceUrl, accountsUrl, clientId, redirectUri, scopes, homePath };
}
