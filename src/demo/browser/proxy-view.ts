/** The proxy tab on the page: its two buttons, and the answer the last call got. */
import { PROXY_PATHS, type ProxyAnswer } from './proxy-tab.js';
import { renderProfile } from './view.js';

export interface ProxyView {
  onCall(listener: (path: string) => void): void;
  setBusy(busy: boolean): void;
  showPending(path: string): void;
  showAnswer(path: string, answer: ProxyAnswer): void;
  /** After a refusal (shown in the page's error box): no answer is left on screen. */
  clear(): void;
}

export function createProxyView(document: Document): ProxyView {
  const find = (id: string) => {
    const found = document.getElementById(id);
    if (!found) throw new Error(`demo: the page has no #${id}`);
    return found;
  };
  const buttons = {
    [PROXY_PATHS.me]: find('proxy-me') as HTMLButtonElement,
    [PROXY_PATHS.offList]: find('proxy-off-list') as HTMLButtonElement,
  };
  const result = find('proxy-result');
  const answered = find('proxy-answered');
  const shownPath = (path: string) => `GET ${path.split('?', 1)[0]}`;
  return {
    onCall(listener) {
      for (const [path, button] of Object.entries(buttons)) {
        button.addEventListener('click', () => listener(path));
      }
    },
    setBusy(busy) {
      for (const button of Object.values(buttons)) button.disabled = busy;
    },
    showPending(path) {
      result.hidden = false;
      result.replaceChildren(`Calling ${shownPath(path)} through the service…`);
      answered.hidden = true;
    },
    showAnswer(path, answer) {
      result.hidden = false;
      renderProfile(result, answer.profile);
      answered.textContent = `HTTP ${answer.status} from ${shownPath(path)}, through the service: this page sent its cookie, which it cannot read, and no token.`;
      answered.hidden = false;
    },
    clear() {
      result.replaceChildren();
      result.hidden = true;
      answered.hidden = true;
    },
  };
}
