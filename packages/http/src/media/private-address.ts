import { BlockList, isIP } from 'node:net'

/**
 * Addresses an image URL may not reach by default (against SSRF): this machine, private networks,
 * link-local (cloud metadata at 169.254.169.254), CGNAT (100.64/10, Alibaba's metadata), unique-local
 * IPv6 (fd00:ec2::254), multicast and reserved ranges. IPv4-mapped IPv6 addresses match their IPv4 rule.
 */
const BLOCKED = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv4')
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6')
}

/** Whether an IP address is one an image fetch must not reach without `allowPrivateUrls`; anything not an IP is. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return true
  return BLOCKED.check(address, family === 6 ? 'ipv6' : 'ipv4')
}
