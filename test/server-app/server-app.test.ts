import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { clusterPort } from '../support/cluster-port.ts'
import { recordingClient } from '../support/recording-client.ts'

const MAIN = resolve(import.meta.dir, '../../apps/server/src/main.ts')
const ECHO_FIXTURE = resolve(import.meta.dir, '../fixtures/adapter-echo')

interface RunningServer {
  url: string
  stdout: () => string
  stop: () => Promise<number>
  /** Sends a signal; resolves with the exit code and stderr once the process has ended. */
  signal: (signal: 'SIGTERM' | 'SIGINT') => void
  /** Reads stdout until it contains `text`. */
  waitForOutput: (text: string) => Promise<void>
  exited: () => Promise<{ code: number; stderr: string }>
}

/** Starts `bun apps/server` as a user would, in `cwd`, and waits for the banner's API line. */
async function launch(cwd: string, args: string[], env: Record<string, string> = {}, address = ['--port', '0', '--host', '127.0.0.1']): Promise<RunningServer> {
  const child = Bun.spawn([process.execPath, MAIN, ...address, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let output = ''
  const reader = child.stdout.getReader()
  const decoder = new TextDecoder()
  const deadline = Date.now() + 30_000
  let url: string | undefined
  while (!url && Date.now() < deadline) {
    const { done, value } = await reader.read()
    if (done) break
    output += decoder.decode(value)
    url = /API\s+(http:\/\/[^\s/]+)\/v1/.exec(output)?.[1]
  }
  if (!url) throw new Error(`The server did not start:\n${output}\n${await new Response(child.stderr).text()}`)
  return {
    url,
    stdout: () => output,
    stop: async () => {
      child.kill('SIGTERM')
      return child.exited
    },
    signal: (signal) => child.kill(signal),
    waitForOutput: async (text) => {
      while (!output.includes(text)) {
        const { done, value } = await reader.read()
        if (done) throw new Error(`stdout ended without '${text}':\n${output}`)
        output += decoder.decode(value)
      }
    },
    exited: async () => ({ code: await child.exited, stderr: await new Response(child.stderr).text() }),
  }
}

let workdir: string

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'cy-app-'))
  // What `bun add @cy/adapter-echo` leaves behind: the package under node_modules/@cy.
  await mkdir(join(workdir, 'project', 'node_modules', '@cy'), { recursive: true })
  await symlink(ECHO_FIXTURE, join(workdir, 'project', 'node_modules', '@cy', 'adapter-echo'))
  await mkdir(join(workdir, 'project', 'models'))
  await writeFile(join(workdir, 'project', 'models', 'tiny.echo'), 'ECHO v1\nprefix: tiny: \n')
  await writeFile(join(workdir, 'project', 'models', 'notes.txt'), 'not a model')
  await writeFile(
    join(workdir, 'project', 'cy.yaml'),
    ['models:', '  - name: shouty', '    adapter: echo', '    path: models/tiny.echo', '    options: { prefix: "SHOUT: " }', 'aliases:', '  gpt-4o-mini: tiny'].join('\n'),
  )
  // A model that streams a token every 100 ms, for the drain tests.
  await writeFile(join(workdir, 'project', 'drain.yaml'), ['models:', '  - name: slow', '    adapter: echo', '    path: models/tiny.echo', '    options: { stepMs: 100 }'].join('\n'))
  await mkdir(join(workdir, 'empty'))
  // The echo fixture's `disposeMs` stands in for an engine stuck in native code while it unloads.
  await writeFile(join(workdir, 'project', 'stuck.yaml'), ['models:', '  - name: stuck', '    adapter: echo', '    path: models/tiny.echo', '    options: { disposeMs: 600000 }'].join('\n'))
})
afterAll(() => rm(workdir, { recursive: true, force: true }))

describe('bun run apps/server', () => {
  test('discovers the installed adapter, loads the models folder and the config, and serves them', async () => {
    const server = await launch(join(workdir, 'project'), ['--config', 'cy.yaml'])
    try {
      const banner = server.stdout()
      expect(banner).toContain('echo')
      expect(banner).toContain('@cy/adapter-echo@0.0.1')
      expect(banner).toMatch(/shouty\s+echo/)
      expect(banner).toMatch(/tiny\s+echo/)
      expect(banner).toContain('notes.txt')
      expect(banner).toContain(`${server.url}/docs`)

      const { client } = recordingClient(server.url)
      const ids = []
      for await (const model of client.models.list()) ids.push([model.id, model.owned_by])
      expect(ids).toEqual([
        ['shouty', 'echo'],
        ['tiny', 'echo'],
        ['gpt-4o-mini', 'echo'],
      ])
      // A client that hard-codes a name reaches the model the alias points at.
      const aliased = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] })
      expect(aliased.choices[0]!.message.content).toBe('tiny: hello there')
      const tiny = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'hello there' }] })
      expect(tiny.choices[0]!.message.content).toBe('tiny: hello there')
      const shouty = await client.chat.completions.create({ model: 'shouty', messages: [{ role: 'user', content: 'hi' }] })
      expect(shouty.choices[0]!.message.content).toBe('SHOUT: hi')
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })

  test('shutdown has a hard deadline: an engine that will not let go does not keep the process alive', async () => {
    // The echo fixture's `disposeMs` stands in for an engine stuck in native code while it unloads.
    const server = await launch(join(workdir, 'project'), ['--config', 'stuck.yaml', '--shutdown-timeout', '300'])
    const started = Date.now()
    server.signal('SIGTERM')
    const { code, stderr } = await server.exited()
    expect(code).toBe(1)
    expect(stderr).toContain('shutdown took longer than 300 ms')
    expect(Date.now() - started).toBeLessThan(20_000)
  })

  test('a second signal exits at once while a stop is still waiting', async () => {
    const server = await launch(join(workdir, 'project'), ['--config', 'stuck.yaml', '--shutdown-timeout', '600000'])
    server.signal('SIGTERM')
    // The first stop is waiting on the stuck engine (ten minutes of deadline); the second signal ends it.
    await server.waitForOutput('stopping (SIGTERM)')
    server.signal('SIGINT')
    const { code, stderr } = await server.exited()
    expect(code).toBe(1)
    expect(stderr).toContain('SIGINT again: exiting now')
  })

  /** Starts a stream of `words` tokens on the slow model and resolves once its first frame is in, with the rest of its text to come. */
  async function streamInFlight(url: string, words: number): Promise<{ rest: Promise<string> }> {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: Array.from({ length: words }, (_, i) => `w${i}`).join(' ') }] }),
    })
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    const first = decoder.decode((await reader.read()).value)
    const rest = (async () => {
      let text = first
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }))
        if (done) return text
        text += decoder.decode(value)
      }
    })()
    return { rest }
  }

  test('SIGTERM with a stream in flight: the stream completes within --drain-timeout, then the process exits 0', async () => {
    const server = await launch(join(workdir, 'project'), ['--config', 'drain.yaml', '--drain-timeout', '20000'])
    const { rest } = await streamInFlight(server.url, 8)
    server.signal('SIGTERM')
    const text = await rest
    expect(text).toContain('data: [DONE]')
    expect(text).not.toContain('"error"')
    // It stopped taking connections at the signal.
    expect(await fetch(`${server.url}/health`).then(() => 'answered', () => 'refused')).toBe('refused')
    expect((await server.exited()).code).toBe(0)
  })

  test('past --drain-timeout a stream still running ends with an error event, and the process exits', async () => {
    const server = await launch(join(workdir, 'project'), ['--config', 'drain.yaml', '--drain-timeout', '300'])
    const { rest } = await streamInFlight(server.url, 200)
    server.signal('SIGTERM')
    const text = await rest
    expect(text).toContain('server_shutting_down')
    expect(text).not.toContain('data: [DONE]')
    expect((await server.exited()).code).toBe(0)
  })

  test('a second SIGTERM during the drain ends the process at once', async () => {
    const server = await launch(join(workdir, 'project'), ['--config', 'drain.yaml', '--drain-timeout', '600000'])
    const { rest } = await streamInFlight(server.url, 200)
    server.signal('SIGTERM')
    await server.waitForOutput('stopping (SIGTERM)')
    server.signal('SIGTERM')
    const { code, stderr } = await server.exited()
    expect(code).toBe(1)
    expect(stderr).toContain('SIGTERM again: exiting now')
    expect(await rest).not.toContain('data: [DONE]')
  })

  test('with no model at all it still starts, lists none, and serves the docs', async () => {
    const server = await launch(join(workdir, 'empty'), [])
    try {
      expect(server.stdout()).toContain('models    (none)')
      const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: unknown[] }
      expect(models.data).toEqual([])
      expect((await fetch(`${server.url}/docs`)).status).toBe(200)
      expect((await fetch(`${server.url}/openapi.json`)).status).toBe(200)
    } finally {
      await server.stop()
    }
  })

  test('--api-key (or CY_API_KEY) is enforced', async () => {
    const server = await launch(join(workdir, 'empty'), [], { CY_API_KEY: 'sesame' })
    try {
      expect((await fetch(`${server.url}/v1/models`)).status).toBe(401)
      expect((await fetch(`${server.url}/v1/models`, { headers: { authorization: 'Bearer sesame' } })).status).toBe(200)
      expect((await fetch(`${server.url}/health`)).status).toBe(200)
    } finally {
      await server.stop()
    }
  })

  test('stored responses outlive a restart (./data/responses.sqlite by default)', async () => {
    const first = await launch(join(workdir, 'project'), [])
    let id: string
    try {
      id = (await recordingClient(first.url).client.responses.create({ model: 'tiny', input: 'keep me' })).id
    } finally {
      await first.stop()
    }
    const second = await launch(join(workdir, 'project'), [])
    try {
      const again = await recordingClient(second.url).client.responses.retrieve(id)
      expect(again.output_text).toBe('tiny: keep me')
    } finally {
      await second.stop()
    }
  })

  test('flags win over the config file, modelsDir included; the file’s server.port and server.host are used', async () => {
    const port = clusterPort()
    await writeFile(join(workdir, 'project', 'settings.yaml'), ['server:', '  modelsDir: ./nowhere', `  port: ${port}`, '  host: 127.0.0.1'].join('\n'))
    const server = await launch(join(workdir, 'project'), ['--config', 'settings.yaml', '--models', 'models'], {}, [])
    try {
      expect(server.url).toBe(`http://127.0.0.1:${port}`)
      expect(server.stdout()).toMatch(/tiny\s+echo/)
    } finally {
      await server.stop()
    }
  })

  test('--max-queue 0 means no waiting: with the one slot busy, the next request gets 429 at once', async () => {
    await writeFile(join(workdir, 'project', 'slow.yaml'), ['models:', '  - name: slow', '    adapter: echo', '    path: models/tiny.echo', '    options: { stepMs: 200 }'].join('\n'))
    const server = await launch(join(workdir, 'project'), ['--config', 'slow.yaml', '--max-concurrency', '1', '--max-queue', '0'])
    try {
      const busy = new AbortController()
      const first = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'one two three four five six seven eight' }] }),
        signal: busy.signal,
      })
      // Its first frame: the slot is taken.
      await first.body!.getReader().read()
      const second = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] }),
      })
      expect(second.status).toBe(429)
      busy.abort()
    } finally {
      await server.stop()
    }
  })

  test('--host 0.0.0.0 without a key prints a warning line; on loopback, or with a key, it does not', async () => {
    const open = await launch(join(workdir, 'empty'), [], {}, ['--port', '0', '--host', '0.0.0.0'])
    try {
      expect(open.stdout()).toContain('WARNING   listening on 0.0.0.0 WITHOUT an API key')
    } finally {
      await open.stop()
    }
    const keyed = await launch(join(workdir, 'empty'), ['--api-key', 'k'], {}, ['--port', '0', '--host', '0.0.0.0'])
    try {
      expect(keyed.stdout()).not.toContain('WARNING')
    } finally {
      await keyed.stop()
    }
    const local = await launch(join(workdir, 'empty'), [])
    try {
      expect(local.stdout()).not.toContain('WARNING')
    } finally {
      await local.stop()
    }
  })

  test('a bad flag prints the usage and exits 2', async () => {
    const child = Bun.spawn([process.execPath, MAIN, '--bogus'], { stdout: 'pipe', stderr: 'pipe' })
    expect(await child.exited).toBe(2)
    expect(await new Response(child.stderr).text()).toContain('Usage: bun run apps/server')
  })
})

describe('bun run apps/server in cluster mode', () => {
  test('--master, --worker and --auto: the worker’s models are served through the master, /health reports the workers', async () => {
    const port = clusterPort()
    const secret = ['--cluster-secret', 'app-secret', '--worker-host', '127.0.0.1']
    const master = await launch(join(workdir, 'empty'), ['--master', '--port', String(port), ...secret])
    const running = [master]
    try {
      expect(master.stdout()).toContain(`cluster   master; workers join on port ${port + 1000} (cluster secret required)`)
      const worker = await launch(join(workdir, 'project'), ['--worker', '--master-port', String(port), '--worker-id', 'w1', '--config', 'cy.yaml', ...secret])
      running.push(worker)
      expect(worker.stdout()).toContain(`cluster   worker 'w1' of http://127.0.0.1:${port}; clients call the master`)
      // The worker's banner sends clients to the master.
      expect(worker.url).toBe(master.url)
      const auto = await launch(join(workdir, 'empty'), ['--auto', '--port', String(port), '--worker-id', 'w2', ...secret])
      running.push(auto)
      expect(auto.stdout()).toContain(`worker 'w2'`)

      const { client } = recordingClient(master.url)
      const owners = []
      for await (const model of client.models.list()) owners.push([model.id, model.owned_by])
      expect(owners).toEqual([
        ['shouty', 'w1'],
        ['tiny', 'w1'],
        ['gpt-4o-mini', 'w1'],
      ])
      const tiny = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'through the master' }] })
      expect(tiny.choices[0]!.message.content).toBe('tiny: through the master')
      const health = (await (await fetch(`${master.url}/health/details`)).json()) as { cluster: { mode: string; workers: Array<{ id: string; models: string[]; in_flight: number }> } }
      expect(health.cluster.mode).toBe('master')
      expect(health.cluster.workers.map(({ id, models, in_flight }) => ({ id, models, in_flight }))).toEqual([
        { id: 'w1', models: ['shouty', 'tiny', 'gpt-4o-mini'], in_flight: 0 },
        { id: 'w2', models: [], in_flight: 0 },
      ])

      // A worker without the secret does not get in, and says why.
      const intruder = Bun.spawn([process.execPath, MAIN, '--worker', '--master-port', String(port), '--worker-host', '127.0.0.1', '--cluster-secret', 'wrong'], {
        cwd: join(workdir, 'empty'),
        stdout: 'pipe',
        stderr: 'pipe',
      })
      expect(await intruder.exited).toBe(1)
      expect(await new Response(intruder.stderr).text()).toContain('cluster worker: The master refused this worker: Wrong or missing cluster secret')
    } finally {
      for (const server of running.reverse()) await server.stop()
    }
  }, 60_000)
})

