import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { serverOptions } from '../../apps/server/src/app.ts'
import { parseCliOptions } from '../../apps/server/src/cli-options.ts'
import { ConfigError, loadConfigFile } from '../../apps/server/src/config-file.ts'
import { resolveSettings } from '../../apps/server/src/server-settings.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-media-settings-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

async function merged(argv: string[], env: Record<string, string>, server: Record<string, unknown> | undefined) {
  const path = join(dir, `cy-${Math.random().toString(36).slice(2)}.json`)
  await writeFile(path, JSON.stringify(server ? { server } : {}))
  const config = await loadConfigFile(path)
  return resolveSettings(parseCliOptions(argv, env)!, config.server, path)
}

describe('media settings', () => {
  test('flags: repeatable --allowed-media-dir, --allow-private-media-urls, --no-media-urls, the limits', () => {
    const options = parseCliOptions(
      ['--allowed-media-dir', '/srv/a', '--allowed-media-dir', '/srv/b', '--allow-private-media-urls', '--no-media-urls', '--max-media-bytes', '1024', '--media-timeout', '500'],
      {},
    )!
    expect(options.media).toEqual({ allowedDirs: ['/srv/a', '/srv/b'], allowPrivateUrls: true, remote: false, maxBytes: 1024, timeoutMs: 500 })
    expect(parseCliOptions([], {})!.media).toBeUndefined()
  })

  test('environment: CY_ALLOWED_MEDIA_DIRS is ":"-separated, CY_ALLOW_PRIVATE_MEDIA_URLS=1', () => {
    expect(parseCliOptions([], { CY_ALLOWED_MEDIA_DIRS: '/x:/y', CY_ALLOW_PRIVATE_MEDIA_URLS: '1' })!.media).toEqual({ allowedDirs: ['/x', '/y'], allowPrivateUrls: true })
  })

  test("the config file's server.media: folders relative to the file, each key overridden by its own flag, passed to the Server", async () => {
    const settings = await merged(['--max-media-bytes', '2048'], {}, { media: { allowedDirs: ['pictures', '/abs/photos'], maxBytes: 99, allowPrivateUrls: true } })
    expect(settings.media).toEqual({ allowedDirs: [resolve(dir, 'pictures'), '/abs/photos'], maxBytes: 2048, allowPrivateUrls: true })
    expect(serverOptions(settings).media).toEqual(settings.media!)
  })

  test('a wrong media setting in the config file is an error naming the key', async () => {
    await expect(merged([], {}, { media: { allowedDirs: '/one' } })).rejects.toThrow(ConfigError)
    await expect(merged([], {}, { media: { allowedDirs: '/one' } })).rejects.toThrow(/server\.media\.allowedDirs .* must be a list of folders/)
    await expect(merged([], {}, { media: { maxBytes: -1 } })).rejects.toThrow(/server\.media\.maxBytes .* must be a positive integer/)
    await expect(merged([], {}, { media: { fetch: true } })).rejects.toThrow(/server\.media\.fetch .* is not a media setting/)
  })
})
