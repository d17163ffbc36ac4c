/**
 * The page's mode on screen: which of the mode-specific passages show, the line that names the mode
 * and links the other one, and the tabs, whose Web API proxy tab shows only where the service
 * proxies the Web API (src/demo/config.ts).
 */
import type { DemoMode } from '../config.js';

const LABELS: Record<DemoMode, { text: string; other: string }> = {
  cookie: {
    text: 'Cookie mode: the refresh token never reaches this page.',
    other: 'Tokens in this tab instead (weaker)',
  },
  tab: {
    text: 'Tokens in this tab (the weaker mode): the refresh token is in sessionStorage, readable by any script on the page.',
    other: 'Cookie mode instead',
  },
};

type Find = <T extends HTMLElement>(id: string, type: new () => T) => T;

function showTabs(element: Find, apiProxy: boolean): void {
  const tabs = element('tabs', HTMLElement);
  tabs.hidden = !apiProxy;
  if (!apiProxy) return;
  const panels = { tokens: element('tokens-panel', HTMLElement), proxy: element('proxy-panel', HTMLElement) };
  const buttons = {
    tokens: element('tab-tokens', HTMLButtonElement),
    proxy: element('tab-proxy', HTMLButtonElement),
  };
  const select = (chosen: keyof typeof panels) => {
    for (const name of ['tokens', 'proxy'] as const) {
      panels[name].hidden = name !== chosen;
      buttons[name].setAttribute('aria-selected', String(name === chosen));
    }
  };
  buttons.tokens.addEventListener('click', () => select('tokens'));
  buttons.proxy.addEventListener('click', () => select('proxy'));
}

export function showMode(document: Document, element: Find, mode: DemoMode, apiProxy: boolean): void {
  for (const node of document.querySelectorAll<HTMLElement>('[data-mode]')) {
    node.hidden = node.dataset.mode !== mode;
  }
  const line = element('mode', HTMLElement);
  const link = document.createElement('a');
  const other: DemoMode = mode === 'cookie' ? 'tab' : 'cookie';
  link.href = `?mode=${other}`;
  link.textContent = LABELS[mode].other;
  line.replaceChildren(`${LABELS[mode].text} `, link);
  line.hidden = false;
  showTabs(element, apiProxy);
}
