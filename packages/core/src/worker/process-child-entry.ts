// The entry of an engine process (see ProcessTransport): it runs the engine module, whose `serveWorker`
// serves the parent over IPC. A parent that goes away takes its engine with it.
process.on('disconnect', () => process.exit(0))
// Ctrl-C and a signal to the whole process group (systemd, `kill -- -pgid`) reach the engine too: it leaves
// them to the server, which drains its requests first and then ends its engines (or goes, and so do they).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {})
const moduleUrl = process.argv[2]
if (!moduleUrl || typeof process.send !== 'function') {
  console.error('cy engine process: start it through WorkerHost with isolation "process"')
  process.exit(2)
}
await import(moduleUrl)

export {}
