/** Opens a URL in the system browser, or says that it could not (then the URL is printed). */
import { spawn } from 'node:child_process';

type Env = Readonly<Record<string, string | undefined>>;

function command(url: string, env: Env): [string, string[]] | undefined {
  const browser = env.BROWSER;
  if (browser) return [browser, [url]];
  switch (process.platform) {
    case 'darwin':
      return ['open', [url]];
    case 'win32':
      return ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]];
    default:
      // Without a display, xdg-open would fall back to a text browser in this very terminal.
      if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
      return ['xdg-open', [url]];
  }
}

export function openBrowser(url: string, env: Env = process.env): Promise<boolean> {
  const cmd = command(url, env);
  if (!cmd) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd[1], { stdio: 'ignore', detached: true });
    const timer = setTimeout(() => {
      child.unref();
      resolve(true);
    }, 1_500);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}
