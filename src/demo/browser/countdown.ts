/** The live `mm:ss` until the access token expires. */

function mmss(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 60))}:${pad(seconds % 60)}`;
}

export interface Countdown {
  start(expiresAt: number): void;
  stop(): void;
}

export function createCountdown(element: HTMLElement): Countdown {
  let timer: ReturnType<typeof setInterval> | undefined;
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  return {
    start(expiresAt) {
      stop();
      const tick = () => {
        const left = expiresAt - Date.now();
        element.textContent = mmss(left);
        element.classList.toggle('expired', left <= 0);
      };
      tick();
      timer = setInterval(tick, 1000);
    },
    stop,
  };
}
