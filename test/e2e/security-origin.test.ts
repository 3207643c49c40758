import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { OutputChunk } from '@cy/core'
import { Server } from '@cy/http'
import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { startTestServer } from '../support/test-server.ts'
import { rawRequest } from './security-raw-http.ts'

const CHAT = JSON.stringify({ model: 'chat-a', messages: [{ role: 'user', content: 'hi' }] })

let calls = 0
const registerChat = (s: Server) =>
  s.registerChat('chat-a', (_req, out) => {
    calls++
    out.push(OutputChunk.textDelta('ok'))
    out.end()
  })

/** A POST to chat completions as a browser or curl would send it, with the headers given. */
const post = (server: Server, headers: Record<string, string>, host = `127.0.0.1:${server.port}`) =>
  rawRequest(server.port, { method: 'POST', path: '/v1/chat/completions', host, headers }, CHAT)

const preflight = (server: Server, origin: string) =>
  rawRequest(server.port, {
    method: 'OPTIONS',
    path: '/v1/chat/completions',
    host: `127.0.0.1:${server.port}`,
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  })

describe('a stock server (no options): loopback only, no page of another site may drive it', () => {
  let server: Server

  beforeAll(async () => {
    server = new Server({ port: 0 })
    registerChat(server)
    await server.start()
  })
  afterAll(() => server.stop())

  test('it binds 127.0.0.1, not every interface', async () => {
    expect(server.address().hostname).toBe('127.0.0.1')
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal)?.address
    // On a machine with another interface, that address does not reach the server.
    const reached = await new Promise<boolean>((resolve) => {
      if (!external) return resolve(false)
      const socket = connect(server.port, external)
      socket.on('connect', () => (socket.destroy(), resolve(true)))
      socket.on('error', () => resolve(false))
    })
    expect(reached).toBe(false)
  })

  test('a preflight from http://evil.example → 403 without allow headers', async () => {
    const response = await preflight(server, 'http://evil.example')
    expect(response.status).toBe(403)
    expect(response.headers['access-control-allow-origin']).toBeUndefined()
    expect(JSON.parse(response.body).error.code).toBe('origin_not_allowed')
  })

  test('a text/plain cross-origin POST (a "simple" request: no preflight) → 403, and the model never runs', async () => {
    const before = calls
    for (const origin of ['http://evil.example', 'https://evil.example:8443', 'null']) {
      const response = await post(server, { 'content-type': 'text/plain', origin })
      expect({ origin, status: response.status, code: JSON.parse(response.body).error.code }).toEqual({ origin, status: 403, code: 'origin_not_allowed' })
    }
    expect(calls).toBe(before)
  })

  test('curl -d (form-urlencoded, no Origin) and clients without a content type still work', async () => {
    expect((await post(server, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(200)
    expect((await post(server, {})).status).toBe(200)
    expect((await post(server, { 'content-type': 'application/json' })).status).toBe(200)
  })

  test('pages on loopback (any port) are allowed, with the allow-origin header', async () => {
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:3000', 'http://[::1]:8080', 'http://app.localhost']) {
      const response = await post(server, { 'content-type': 'application/json', origin })
      expect({ origin, status: response.status, allow: response.headers['access-control-allow-origin'] }).toEqual({ origin, status: 200, allow: origin })
      expect((await preflight(server, origin)).status).toBe(204)
    }
  })

  test('DNS rebinding: a Host this loopback server does not answer to → 403; its own names → 200', async () => {
    const rebound = await post(server, { 'content-type': 'application/json' }, `evil.example:${server.port}`)
    expect(rebound.status).toBe(403)
    expect(JSON.parse(rebound.body).error.code).toBe('host_not_allowed')
    // The page that rebinding serves is of its own origin; it is refused by its Host before its Origin counts.
    const sameOrigin = await post(server, { 'content-type': 'text/plain', origin: `http://evil.example:${server.port}` }, `evil.example:${server.port}`)
    expect(sameOrigin.status).toBe(403)
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`, 'localhost']) {
      expect({ host, status: (await post(server, {}, host)).status }).toEqual({ host, status: 200 })
    }
    expect((await rawRequest(server.port, { method: 'GET', path: '/health', host: `evil.example:${server.port}` })).status).toBe(403)
  })
})

describe('opening it up', () => {
  test('corsOrigins lists more origins (others still 403); "*" allows any', async () => {
    const listed = await startTestServer({ corsOrigins: ['https://app.example'] }, registerChat)
    const any = await startTestServer({ corsOrigins: '*' }, registerChat)
    try {
      const app = await post(listed, { 'content-type': 'application/json', origin: 'https://app.example' })
      expect([app.status, app.headers['access-control-allow-origin']]).toEqual([200, 'https://app.example'])
      expect((await post(listed, { 'content-type': 'application/json', origin: 'https://other.example' })).status).toBe(403)
      expect((await preflight(listed, 'https://app.example')).status).toBe(204)
      const evil = await post(any, { 'content-type': 'application/json', origin: 'http://evil.example' })
      expect([evil.status, evil.headers['access-control-allow-origin']]).toEqual([200, 'http://evil.example'])
    } finally {
      await listed.stop()
      await any.stop()
    }
  })

  test('allowedHosts adds names a loopback server answers to; its own origin may then call it (the docs page)', async () => {
    const named = await startTestServer({ allowedHosts: ['cy.lan'] }, registerChat)
    try {
      const host = `cy.lan:${named.port}`
      expect((await post(named, {}, host)).status).toBe(200)
      expect((await post(named, { origin: `http://${host}`, 'content-type': 'application/json' }, host)).status).toBe(200)
      expect((await post(named, { origin: 'http://evil.example', 'content-type': 'application/json' }, host)).status).toBe(403)
      expect((await post(named, {}, `other.lan:${named.port}`)).status).toBe(403)
    } finally {
      await named.stop()
    }
  })

  test('bound to every interface: any Host is answered (the names are not known), Origin is still checked', async () => {
    const open = await startTestServer({ hostname: '0.0.0.0' }, registerChat)
    try {
      expect((await post(open, {}, `gpu-box.lan:${open.port}`)).status).toBe(200)
      expect((await post(open, { origin: 'http://evil.example', 'content-type': 'text/plain' }, `gpu-box.lan:${open.port}`)).status).toBe(403)
    } finally {
      await open.stop()
    }
  })
})
