import { BadRequestError, PermissionDeniedError } from '@cy/core'

/** Which `Host` names a request may carry: any, or the listed hostnames (lowercase, ports aside). */
export type AllowedHosts = '*' | ReadonlySet<string>

/** A hostname or IPv4 address, or a bracketed IPv6 literal, and an optional port: nothing else. */
const HOST_HEADER = /^(?:\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::\d{1,5})?$/i

/** Names that always mean this machine: a loopback-bound server answers to them. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]']

/** Is this hostname (as a URL or a `Host` header spells it) this machine's loopback? */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase()
  return LOOPBACK_HOSTS.includes(name) || name === '::1' || name.endsWith('.localhost') || /^127(?:\.\d{1,3}){3}$/.test(name)
}

/** The hostname part of a valid `Host` header, lowercase. */
function hostnameOf(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.lastIndexOf(':')
  return (end > 0 ? host.slice(0, end) : host).toLowerCase()
}

/** The last `Host` accepted, and for which names: a client sends the same one on every request. */
const accepted: { host: string | undefined; allowed: AllowedHosts | undefined } = { host: undefined, allowed: undefined }

/**
 * Refuses a `Host` that is not a plain host[:port] (400): Bun builds `request.url` from it, so `x/h?`
 * would move the path the checks see away from the one the router serves. Then, when the server only
 * answers to some names (a loopback bind), refuses the others (403): a DNS-rebinding page sends its own.
 * A request without `Host` (HTTP/1.0, or `app.handle` in a program) has no name to check.
 */
export function checkHost(host: string | null, allowed: AllowedHosts): void {
  if (host === null || (host === accepted.host && allowed === accepted.allowed)) return
  if (!HOST_HEADER.test(host)) throw new BadRequestError('The Host header is not a valid host name', { code: 'invalid_host' })
  if (allowed !== '*' && !allowed.has(hostnameOf(host)) && !isLoopbackName(hostnameOf(host))) {
    throw new PermissionDeniedError(`This server does not answer to the host name '${hostnameOf(host)}'`, { code: 'host_not_allowed' })
  }
  accepted.host = host
  accepted.allowed = allowed
}

