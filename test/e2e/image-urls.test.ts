import { OutputChunk, type ChatRequest, type ContentPart } from '@cy/core'
import { isPrivateAddress, type Server, type ServerOptions } from '@cy/http'
import { encodeImage } from '@cy/image'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { startTestServer } from '../support/test-server.ts'

/**
 * `image_url` parts reach a model as data URIs whatever the client sent: data URIs, http(s) URLs (served
 * here by a local Bun.serve, the network-boundary double for the internet's image hosts), and paths under
 * an allow-listed folder. A registered chat handler records the parts it gets.
 */

let png: Uint8Array<ArrayBuffer>
let pngUri: string
let folder: string
let outsideDir: string
const seen: ChatRequest[] = []
const servers: Server[] = []

/** What the recording handler received last: its image parts, message by message. */
function lastImages(): Array<Extract<ContentPart, { type: 'image_url' }>['image_url']> {
  const chat = seen.at(-1)!
  return chat.messages.flatMap((message) => (Array.isArray(message.content) ? message.content : [])).flatMap((part) => (part.type === 'image_url' ? [part.image_url] : []))
}

async function chatServer(media: ServerOptions['media'], metadata: Record<string, unknown> = {}): Promise<Server> {
  const server = await startTestServer({ media }, (s) =>
    s.registerChat(
      'eyes',
      (req, out) => {
        seen.push(req)
        out.push(OutputChunk.finalText('seen'))
        out.end()
      },
      { metadata },
    ),
  )
  servers.push(server)
  return server
}

function post(server: Server, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) })
}

function imageChat(...urls: string[]) {
  return { model: 'eyes', messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, ...urls.map((url) => ({ type: 'image_url', image_url: { url } }))] }] }
}

async function expectImageError(response: Response, param: string, code: string, message: RegExp): Promise<void> {
  expect(response.status).toBe(400)
  const body = (await response.json()) as { error: { message: string; type: string; param: string; code: string } }
  expect(body.error).toMatchObject({ type: 'invalid_request_error', param, code })
  expect(body.error.message).toMatch(message)
  expect(body.error.message).not.toContain('    at ')
}

/** The image host: an image, a text page, a streamed body with no length, redirects, and a request that never answers. */
const hostLog: string[] = []
let hostAborted: () => void = () => {}
let stallRequested: () => void = () => {}
const host: ReturnType<typeof Bun.serve> = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  fetch(request): Response | Promise<Response> {
    const url = new URL(request.url)
    hostLog.push(url.pathname)
    if (url.pathname === '/cat.png') return new Response(png, { headers: { 'content-type': 'image/png' } })
    if (url.pathname === '/page.html') return new Response('<html>not an image</html>', { headers: { 'content-type': 'image/png' } })
    if (url.pathname === '/huge') {
      // No Content-Length: only counting the bytes as they stream can stop it.
      let sent = 0
      return new Response(
        new ReadableStream({
          pull(controller) {
            if (sent === 0) controller.enqueue(png)
            else controller.enqueue(new Uint8Array(64 * 1024))
            sent++
          },
        }),
      )
    }
    if (url.pathname === '/redirect-to-image') return Response.redirect(`http://127.0.0.1:${host.port}/cat.png`, 302)
    if (url.pathname === '/redirect-to-metadata') return Response.redirect('http://169.254.169.254/latest/meta-data/', 302)
    if (url.pathname === '/redirect-loop') return Response.redirect(`http://127.0.0.1:${host.port}/redirect-loop`, 302)
    if (url.pathname === '/stall') {
      stallRequested()
      return new Promise<Response>((resolve) => {
        request.signal.addEventListener('abort', () => {
          hostAborted()
          resolve(new Response('gone'))
        })
      })
    }
    return new Response('not found', { status: 404 })
  },
})
const hostUrl = (path: string) => `http://127.0.0.1:${host.port}${path}`

beforeAll(async () => {
  png = new Uint8Array((await encodeImage({ width: 2, height: 2, channels: 3, data: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]) }, 'png')).data)
  pngUri = `data:image/png;base64,${Buffer.from(png).toString('base64')}`
  folder = mkdtempSync(join(tmpdir(), 'cy-media-'))
  outsideDir = mkdtempSync(join(tmpdir(), 'cy-media-outside-'))
  writeFileSync(join(folder, 'cat.png'), png)
  writeFileSync(join(outsideDir, 'secret.png'), png)
  symlinkSync(join(outsideDir, 'secret.png'), join(folder, 'escape.png'))
})

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()))
  host.stop(true)
  rmSync(folder, { recursive: true, force: true })
  rmSync(outsideDir, { recursive: true, force: true })
})

describe('data URIs', () => {
  test('pass through unchanged, several per message and per conversation, detail kept', async () => {
    const server = await chatServer({})
    const body = {
      model: 'eyes',
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: pngUri, detail: 'low' } }, { type: 'image_url', image_url: { url: pngUri } }] },
        { role: 'assistant', content: 'Two squares.' },
        { role: 'user', content: [{ type: 'text', text: 'And this?' }, { type: 'image_url', image_url: { url: pngUri, detail: 'high' } }] },
      ],
    }
    const response = await post(server, '/v1/chat/completions', body)
    expect(response.status).toBe(200)
    expect(lastImages()).toEqual([{ url: pngUri, detail: 'low' }, { url: pngUri }, { url: pngUri, detail: 'high' }])
    expect(seen.at(-1)!.messages[2]!.content).toEqual([{ type: 'text', text: 'And this?' }, { type: 'image_url', image_url: { url: pngUri, detail: 'high' } }])
  })

  test('one without its type gets the type its bytes sniff as', async () => {
    const server = await chatServer({})
    expect((await post(server, '/v1/chat/completions', imageChat(`data:;base64,${Buffer.from(png).toString('base64')}`))).status).toBe(200)
    expect(lastImages()[0]!.url).toBe(pngUri)
  })

  test('a data URI that is not an image, not base64, or too large is a 400 naming the part', async () => {
    const server = await chatServer({ maxBytes: png.byteLength })
    const param = 'messages[0].content[1].image_url.url'
    await expectImageError(await post(server, '/v1/chat/completions', imageChat('data:text/plain;base64,aGVsbG8=')), param, 'invalid_image_url', /not an image/)
    await expectImageError(await post(server, '/v1/chat/completions', imageChat('data:image/png;base64,aGVsbG8=')), param, 'invalid_image_url', /not a PNG, JPEG, WebP, GIF or BMP image/)
    await expectImageError(await post(server, '/v1/chat/completions', imageChat('data:image/png;base64,@@@@')), param, 'invalid_image_url', /not valid base64/)
    await expectImageError(await post(server, '/v1/chat/completions', imageChat('data:image/png,rawbytes')), param, 'invalid_image_url', /only base64/)
    const big = `data:image/png;base64,${Buffer.from(new Uint8Array(200)).toString('base64')}`
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(pngUri, big)), 'messages[0].content[2].image_url.url', 'image_too_large', new RegExp(`limit of ${png.byteLength} bytes`))
  })

  test("a request's images together past the total limit are a 400 naming the image that crossed it", async () => {
    const server = await chatServer({ maxTotalBytes: png.byteLength * 2 })
    expect((await post(server, '/v1/chat/completions', imageChat(pngUri, pngUri))).status).toBe(200)
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(pngUri, pngUri, pngUri)), 'messages[0].content[3].image_url.url', 'image_too_large', /images together are larger than/)
  })
})

describe('http(s) URLs', () => {
  test('are fetched into the same data URI as the bytes', async () => {
    const server = await chatServer({ allowPrivateUrls: true })
    const response = await post(server, '/v1/chat/completions', imageChat(hostUrl('/cat.png'), hostUrl('/redirect-to-image')))
    expect(response.status).toBe(200)
    expect(lastImages()).toEqual([{ url: pngUri }, { url: pngUri }])
  })

  test('by default, a URL on a loopback address is refused without being fetched', async () => {
    const server = await chatServer({})
    const before = hostLog.length
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(hostUrl('/cat.png'))), 'messages[0].content[1].image_url.url', 'image_url_not_allowed', /--allow-private-media-urls/)
    // A name that resolves to a loopback address is refused too (the system resolver's own answer for localhost).
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(`http://localhost:${host.port}/cat.png`)), 'messages[0].content[1].image_url.url', 'image_url_not_allowed', /'localhost'/)
    expect(hostLog.length).toBe(before)
  })

  test('a redirect to a private address is refused, each hop checked', async () => {
    // The DNS double: `localhost` answers a public address, so the first hop passes the check and the real
    // local host answers it; its redirect's target is an address literal, checked without any resolver.
    const server = await chatServer({ lookup: async (name) => (name === 'localhost' ? ['203.0.113.7'] : ['10.0.0.8']) })
    const before = hostLog.length
    await expectImageError(
      await post(server, '/v1/chat/completions', imageChat(`http://localhost:${host.port}/redirect-to-metadata`)),
      'messages[0].content[1].image_url.url',
      'image_url_not_allowed',
      /'169\.254\.169\.254'/,
    )
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(`http://localhost:${host.port}/redirect-to-image`)), 'messages[0].content[1].image_url.url', 'image_url_not_allowed', /'127\.0\.0\.1'/)
    // A name whose answer is private.
    await expectImageError(await post(server, '/v1/chat/completions', imageChat('http://intranet.example/cat.png')), 'messages[0].content[1].image_url.url', 'image_url_not_allowed', /intranet\.example/)
    expect(hostLog.slice(before)).toEqual(['/redirect-to-metadata', '/redirect-to-image'])
  })

  test('too many redirects, an error status, and a body that is not an image are 400s naming the part', async () => {
    const server = await chatServer({ allowPrivateUrls: true })
    const param = 'messages[0].content[1].image_url.url'
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(hostUrl('/redirect-loop'))), param, 'invalid_image_url', /redirected more than 5 times/)
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(hostUrl('/missing.png'))), param, 'invalid_image_url', /answered 404/)
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(hostUrl('/page.html'))), param, 'invalid_image_url', /not a PNG, JPEG, WebP, GIF or BMP image/)
  })

  test('a body past the limit is stopped while it streams', async () => {
    const server = await chatServer({ allowPrivateUrls: true, maxBytes: 256 * 1024 })
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(hostUrl('/huge'))), 'messages[0].content[1].image_url.url', 'image_too_large', /limit of 262144 bytes/)
  })

  test('a host that does not answer in time is a 400', async () => {
    const server = await chatServer({ allowPrivateUrls: true, timeoutMs: 300 })
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(hostUrl('/stall'))), 'messages[0].content[1].image_url.url', 'invalid_image_url', /longer than 300 ms/)
  })

  test('a client that leaves cancels the fetch', async () => {
    const server = await chatServer({ allowPrivateUrls: true })
    const requested = new Promise<void>((resolve) => (stallRequested = resolve))
    const cancelled = new Promise<void>((resolve) => (hostAborted = resolve))
    const client = new AbortController()
    const handled = seen.length
    const answer = post(server, '/v1/chat/completions', imageChat(hostUrl('/stall')), client.signal).catch((error: Error) => error)
    await requested
    client.abort()
    expect(await answer).toBeInstanceOf(Error)
    // The image host sees its request go away: the server's fetch was aborted, not left to the 15 s timeout.
    await cancelled
    expect(seen.length).toBe(handled)
  })

  test('remote fetching switched off refuses URLs', async () => {
    const server = await chatServer({ allowPrivateUrls: true, remote: false })
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(hostUrl('/cat.png'))), 'messages[0].content[1].image_url.url', 'image_url_not_allowed', /does not fetch image URLs/)
  })

  test('nothing is fetched for a model whose metadata says it has no vision', async () => {
    const server = await chatServer({ allowPrivateUrls: true }, { vision: false })
    const before = hostLog.length
    expect((await post(server, '/v1/chat/completions', imageChat(hostUrl('/cat.png')))).status).toBe(200)
    expect(lastImages()).toEqual([{ url: hostUrl('/cat.png') }])
    expect(hostLog.length).toBe(before)
  })
})

describe('local paths', () => {
  test('a file in an allow-listed folder, as a path or a file:// URL, is the same data URI as its bytes', async () => {
    const server = await chatServer({ allowedDirs: [folder] })
    const response = await post(server, '/v1/chat/completions', imageChat(join(folder, 'cat.png'), pathToFileURL(join(folder, 'cat.png')).href))
    expect(response.status).toBe(200)
    expect(lastImages()).toEqual([{ url: pngUri }, { url: pngUri }])
  })

  test('paths outside the folder, through a symlink or `..`, are refused naming the part and the flag', async () => {
    const server = await chatServer({ allowedDirs: [folder] })
    const param = 'messages[0].content[1].image_url.url'
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(join(outsideDir, 'secret.png'))), param, 'image_path_not_allowed', /--allowed-media-dir/)
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(join(folder, 'escape.png'))), param, 'image_path_not_allowed', /outside the folders/)
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(join(folder, '..', 'x', 'secret.png'))), param, 'image_path_not_allowed', /outside the folders/)
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(join(folder, 'missing.png'))), param, 'invalid_image_url', /no image file/)
  })

  test('by default every path is refused', async () => {
    const server = await chatServer({})
    await expectImageError(await post(server, '/v1/chat/completions', imageChat(join(folder, 'cat.png'))), 'messages[0].content[1].image_url.url', 'image_path_not_allowed', /not allowed on this server.*--allowed-media-dir/)
    await expectImageError(await post(server, '/v1/chat/completions', imageChat('images/cat.png')), 'messages[0].content[1].image_url.url', 'invalid_image_url', /absolute path/)
  })
})

describe('the Responses API', () => {
  test('input_image parts resolve the same way, errors naming the input part', async () => {
    const server = await chatServer({ allowedDirs: [folder] })
    const input = [{ role: 'user', content: [{ type: 'input_text', text: 'Look' }, { type: 'input_image', image_url: join(folder, 'cat.png'), detail: 'low' }] }]
    const response = await post(server, '/v1/responses', { model: 'eyes', input, store: false })
    expect(response.status).toBe(200)
    expect(lastImages()).toEqual([{ url: pngUri, detail: 'low' }])
    const refused = [{ role: 'user', content: [{ type: 'input_text', text: 'Look' }, { type: 'input_image', image_url: join(outsideDir, 'secret.png') }] }]
    await expectImageError(await post(server, '/v1/responses', { model: 'eyes', input: refused }), 'input[0].content[1].image_url', 'image_path_not_allowed', /--allowed-media-dir/)
  })
})

describe('private addresses', () => {
  test('loopback, private, link-local, CGNAT, unique-local, metadata and mapped addresses are private; public ones are not', () => {
    const refused = ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.100.100.200', '0.0.0.0', '255.255.255.255', '::1', '::', 'fd00:ec2::254', 'fe80::1', '::ffff:10.0.0.1', '::ffff:7f00:1', 'not-an-ip']
    const allowed = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111']
    expect(refused.filter((address) => !isPrivateAddress(address))).toEqual([])
    expect(allowed.filter(isPrivateAddress)).toEqual([])
  })
})
