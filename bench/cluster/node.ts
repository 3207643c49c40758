// A benchmark cluster node: `bun node.ts master <port>` or `bun node.ts worker <masterPort> <apiPort>`.
// The worker also serves its own OpenAI API on <apiPort>, so the same model can be called directly.
// Prints one line when it is up.
import { ClusterServer } from '@cy/cluster'
import { OutputChunk } from '@cy/core'

const [mode, port, apiPort] = process.argv.slice(2)
const cluster = new ClusterServer({ secret: 'bench-secret', workerId: 'bench-worker', server: { hostname: '127.0.0.1' } })

// The worker's model: `max_tokens` deltas of one short word each, as fast as the channel takes them,
// or one every `pace_ms` (an extra request field) like a model generating in real time.
if (mode === 'worker') cluster.registerChat('bench-chat', async (request, out) => {
  const tokens = request.max_tokens ?? 16
  const pace = Number((request as { pace_ms?: number }).pace_ms ?? 0)
  for (let i = 0; i < tokens; i++) {
    if (out.signal.aborted) return
    if (pace > 0) await Bun.sleep(pace)
    if (!out.push(OutputChunk.textDelta(' tok'))) await out.ready()
  }
  out.push(OutputChunk.usage(4, tokens))
  out.end()
})

if (mode === 'master') {
  await cluster.runAsMaster(Number(port), '127.0.0.1')
  console.log(`ready ${cluster.getServer().url}`)
} else {
  cluster.setWorkerListenAddress('127.0.0.1', 0)
  await cluster.runAsWorker('127.0.0.1', Number(port))
  const { url } = await cluster.getServer().start(Number(apiPort))
  console.log(`ready ${url}`)
}
process.on('SIGTERM', async () => {
  await cluster.stop()
  process.exit(0)
})
