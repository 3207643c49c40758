/**
 * The cy side of server-compare, in a process of its own as llama-server is: the HTTP `Server` with one
 * llama model. Usage: bun bench/llama/cy-server.ts <model.gguf> <port> <threads> <parallel> [process|worker]; prints "ready".
 */
import createLlamaAdapter from '@cy/adapter-llama'
import { Server } from '@cy/http'

const [path, port, threads, parallel, isolation] = Bun.argv.slice(2)
const loaded = await createLlamaAdapter({ quiet: true }).load({
  name: 'bench',
  adapter: 'llama',
  path,
  options: { threads: Number(threads), parallel: Number(parallel), contextSize: 512, embeddings: false, ...(isolation ? { isolation } : {}) },
})
const server = new Server({ port: Number(port), hostname: '127.0.0.1' })
server.registerModel('bench', loaded.providers)
await server.start()
console.log('ready')
process.on('SIGTERM', async () => {
  await server.stop()
  await loaded.dispose()
  process.exit(0)
})
