import createLlamaAdapter from '@cy/adapter-llama'
import { Server } from '@cy/http'
const t0 = performance.now()
const adapter = createLlamaAdapter({ contextSize: 1024, threads: 2 })
const m = await adapter.load({ name: 'tiny', adapter: 'llama', path: '/tmp/tiny.gguf' })
console.log('load ms', (performance.now() - t0).toFixed(0), m.metadata)
const s = new Server({ port: 0 }); s.registerModel('tiny', m.providers); await s.start()
const post = (p: string, b: unknown) => fetch(s.url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) }).then(async r => [r.status, (await r.text()).slice(0, 400)])
console.log(await post('/v1/chat/completions', { model: 'tiny', temperature: 0, max_tokens: 12, messages: [{ role: 'user', content: 'hi' }] }))
console.log(await post('/v1/chat/completions', { model: 'tiny', temperature: 0, max_tokens: 12, messages: [{ role: 'user', content: 'hi' }] }))
console.log(await post('/v1/chat/completions', { model: 'tiny', stream: true, temperature: 0, max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] }))
console.log(await post('/v1/embeddings', { model: 'tiny', input: ['hello', 'world'] }))
console.log(await post('/v1/completions', { model: 'tiny', prompt: 'Once', temperature: 0, max_tokens: 5 }))
await s.stop(); await m.dispose()
