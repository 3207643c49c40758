// The entry of an engine process (see ProcessTransport): it runs the engine module, whose `serveWorker`
// serves the parent over IPC. A parent that goes away takes its engine with it.
process.on('disconnect', () => process.exit(0))
const moduleUrl = process.argv[2]
if (!moduleUrl || typeof process.send !== 'function') {
  console.error('cy engine process: start it through WorkerHost with isolation "process"')
  process.exit(2)
}
await import(moduleUrl)

export {}
