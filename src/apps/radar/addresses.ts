// Where a redirect may send the radar, checked on the address a connection actually goes to: a
// host name is resolved once, every address it has must be public, and the socket is opened to
// one of those checked addresses, so a name that answers differently a second time (DNS
// rebinding) never gets that second chance.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type * as Undici from 'undici';

/** Every address a host name resolves to, in the order to try them. */
export type ResolveHost = (hostname: string) => Promise<readonly string[]>;

export interface AddressCheck {
  /** Default: the system resolver (`dns.lookup`, all addresses). Tests map names to addresses. */
  resolveHost?: ResolveHost;
  /** Why an address may not be reached, or null. Default: `addressRefusal`. */
  refusal?: (address: string) => string | null;
}

/** A connection refused because of the address it would reach; fetch reports it as its cause. */
export class AddressRefused extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(host === address ? `${address} is ${reason}` : `${host} resolves to ${address}, ${reason}`);
    this.name = 'AddressRefused';
  }
}

export const systemResolveHost: ResolveHost = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

// Ranges in the order they are named; an IPv4 range also catches its IPv4-mapped IPv6 spellings
// (`::ffff:127.0.0.1`, `::ffff:7f00:1`), which BlockList compares as the IPv4 address.
const RANGES: readonly { reason: string; v4?: readonly string[]; v6?: readonly string[] }[] = [
  { reason: 'the unspecified address', v4: ['0.0.0.0/8'], v6: ['::/128'] },
  { reason: 'a loopback address', v4: ['127.0.0.0/8'], v6: ['::1/128'] },
  { reason: 'a link-local address (where cloud metadata services answer)', v4: ['169.254.0.0/16'], v6: ['fe80::/10'] },
  { reason: 'a private address', v4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], v6: ['fec0::/10'] },
  { reason: 'a unique-local (private) address', v6: ['fc00::/7'] },
  { reason: 'a shared (carrier-grade NAT) address', v4: ['100.64.0.0/10'] },
  // 192.0.0.0/24 holds some clouds' metadata endpoints (192.0.0.192); ::/96 is the deprecated IPv4-compatible form.
  { reason: 'a reserved address', v4: ['192.0.0.0/24', '198.18.0.0/15', '240.0.0.0/4'], v6: ['::/96'] },
  { reason: 'a multicast address', v4: ['224.0.0.0/4'], v6: ['ff00::/8'] },
];

const BLOCKS = RANGES.map(({ reason, v4 = [], v6 = [] }) => {
  const block = new BlockList();
  for (const range of v4) block.addSubnet(range.split('/')[0] as string, Number(range.split('/')[1]), 'ipv4');
  for (const range of v6) block.addSubnet(range.split('/')[0] as string, Number(range.split('/')[1]), 'ipv6');
  return { reason, block };
});

/** Why a resolved address is not a public one (loopback, private, link-local, …), or null when it is. */
export function addressRefusal(address: string): string | null {
  // A zone (`fe80::1%eth0`) is not part of the address and BlockList does not match with one.
  const bare = address.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return BLOCKS.find(({ block }) => block.check(bare, type))?.reason ?? null;
}

/**
 * The addresses a connection to `hostname` may use: all it resolves to, each checked. One private
 * address among public ones refuses the lot, since the resolver's order is not ours to trust.
 */
export async function checkedAddresses(hostname: string, check: AddressCheck = {}): Promise<string[]> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : [...(await (check.resolveHost ?? systemResolveHost)(host))];
  if (addresses.length === 0) throw new Error(`${host} resolves to no address`);
  const refusal = check.refusal ?? addressRefusal;
  for (const address of addresses) {
    const reason = refusal(address);
    if (reason) throw new AddressRefused(host, address, reason);
  }
  return addresses;
}

/**
 * An undici connector that opens the socket to an address `checkedAddresses` returned, trying
 * them in order, never resolving the name again. The Host header and TLS server name stay the
 * URL's, so certificates are checked against the name, not the address.
 */
export function checkingConnector(undici: typeof Undici, check: AddressCheck): Undici.buildConnector.connector {
  const connect = undici.buildConnector({});
  return (options, callback) => {
    const host = options.host ?? options.hostname;
    checkedAddresses(options.hostname, check).then(
      (addresses) => {
        const attempt = (i: number): void =>
          connect({ ...options, host, hostname: addresses[i] as string }, (...result) => {
            if (result[0] && i + 1 < addresses.length) attempt(i + 1);
            else callback(...result);
          });
        attempt(0);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), null),
    );
  };
}
