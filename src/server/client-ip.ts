/**
 * Which address a request comes from, for rate limiting. The socket's peer address, unless the
 * operator says how many proxies in front of the service append to X-Forwarded-For (TRUST_PROXY):
 * then the entry the outermost trusted proxy appended. Never the leftmost entry, which the client
 * writes itself.
 *
 * Entries are read strictly: a bare IPv4 or IPv6 address, `IPv4:port` or `[IPv6]:port` (some proxies,
 * Azure Application Gateway among them, write the client's port too). The port is dropped, so each
 * source port does not get a budget of its own, and anything else falls back to the socket address.
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;
const PORT = /^\d{1,5}$/;

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups(text: string): string[] | undefined {
  let address = text.toLowerCase();
  // An embedded IPv4 address at the end counts as the last two groups.
  const embedded = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (embedded) {
    const [, head = '', v4 = ''] = embedded;
    if (!IPV4.test(v4)) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    address = `${head}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const split = (part: string | undefined) => (part ? part.split(':') : []);
  const left = split(halves[0]);
  const right = split(halves[1]);
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right];
  return groups.every((group) => HEX_GROUP.test(group)) ? groups : undefined;
}

/**
 * `1.2.3.4` for an IPv4 address (IPv4-mapped IPv6 included), the /64 for IPv6 (one subscriber usually
 * holds a whole /64), or undefined for anything that is not an address, with or without a port.
 */
export function parseClientAddress(entry: string): string | undefined {
  const text = entry.trim();
  let host = text;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
  } else if (/^[\d.]+:\d+$/.test(text)) {
    const [address = '', port = ''] = text.split(':');
    if (!PORT.test(port)) return undefined;
    host = address;
  }
  if (IPV4.test(host)) return host;
  const groups = ipv6Groups(host);
  if (!groups) return undefined;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups.map((group) => Number.parseInt(group, 16));
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) {
    return `${(g6 ?? 0) >> 8}.${(g6 ?? 0) & 255}.${(g7 ?? 0) >> 8}.${(g7 ?? 0) & 255}`;
  }
  return `${[g0, g1, g2, g3].map((group) => (group ?? 0).toString(16)).join(':')}::/64`;
}

export function resolveClientIp(
  socketAddress: string | undefined,
  forwardedFor: string | undefined,
  trustProxy: number,
): string {
  const socket = socketAddress === undefined ? undefined : parseClientAddress(socketAddress);
  if (trustProxy > 0 && forwardedFor) {
    const hops = forwardedFor
      .split(',')
      .map((hop) => hop.trim())
      .filter(Boolean);
    const entry = hops[Math.max(0, hops.length - trustProxy)];
    const client = entry === undefined ? undefined : parseClientAddress(entry);
    if (client) return client;
  }
  return socket ?? socketAddress ?? 'unknown';
}
