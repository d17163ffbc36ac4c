/**
 * Which address a request comes from, for rate limiting. The socket's peer address, unless the
 * operator says how many proxies in front of the service append to X-Forwarded-For (TRUST_PROXY):
 * then the entry the outermost trusted proxy appended. Never the leftmost entry, which the client
 * writes itself.
 */

/** `::ffff:1.2.3.4` → `1.2.3.4`; an IPv6 address → its /64, which one subscriber usually holds whole. */
export function normalizeIp(address: string): string {
  const ip = address.trim().replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::', 2);
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export function resolveClientIp(
  socketAddress: string | undefined,
  forwardedFor: string | undefined,
  trustProxy: number,
): string {
  if (trustProxy > 0 && forwardedFor) {
    const hops = forwardedFor
      .split(',')
      .map((hop) => hop.trim())
      .filter(Boolean);
    const client = hops[Math.max(0, hops.length - trustProxy)];
    if (client) return normalizeIp(client);
  }
  return socketAddress ? normalizeIp(socketAddress) : 'unknown';
}
