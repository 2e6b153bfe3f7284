import { createHmac } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import proxyAddr from '@fastify/proxy-addr'

type Trust = (addr: string, i: number) => boolean

/** The same trust function Fastify builds from its `trustProxy` setting. */
export function trustFunction (trustProxy: boolean | string | number): Trust | null {
  if (trustProxy === false) return null
  if (trustProxy === true) return () => true
  // A hop count, as Fastify reads a number: the nearest `n` hops are proxies.
  if (typeof trustProxy === 'number') return (_addr, i) => i < trustProxy
  return proxyAddr.compile(trustProxy.split(',').map(s => s.trim()))
}

/**
 * The client address of an HTTP request (a socket's handshake request included): the peer
 * address, or, only behind trusted proxies, the nearest untrusted X-Forwarded-For hop.
 */
export function clientAddress (req: IncomingMessage, trust: Trust | null): string {
  const peer = req.socket.remoteAddress ?? 'unknown'
  if (trust === null) return normalize(peer)
  const addrs = proxyAddr.all(req, trust)
  return normalize(addrs[addrs.length - 1] ?? peer)
}

function normalize (addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr
}

/** IPs are never stored raw: a keyed hash, so a stored IPv4 hash cannot be reversed by enumeration. */
export function hashIp (secret: string, ip: string): string {
  return createHmac('sha256', secret).update(ip).digest('hex')
}

/**
 * `hashIp` with the secret bound and the last `max` distinct IPs remembered: one HMAC per client
 * rather than per request (the REST rate limit keys every request by it). The map is dropped
 * whole when full, so it never holds more than `max` entries.
 */
export function createIpHasher (secret: string, max = 10_000): (ip: string) => string {
  const known = new Map<string, string>()
  return (ip) => {
    let hash = known.get(ip)
    if (hash === undefined) {
      if (known.size >= max) known.clear()
      hash = hashIp(secret, ip)
      known.set(ip, hash)
    }
    return hash
  }
}
