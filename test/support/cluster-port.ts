/** A free port whose port + 1000 (a cluster master's internal port) is free too. */
export function clusterPort(): number {
  for (;;) {
    const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    const port = probe.port
    probe.stop(true)
    if (port + 1000 < 65_536) {
      try {
        const other = Bun.listen({ hostname: '127.0.0.1', port: port + 1000, socket: { data() {} } })
        other.stop(true)
        return port
      } catch {
        // taken: try another
      }
    }
  }
}
