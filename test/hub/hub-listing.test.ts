import { deleteCached, downloadFile, findCached, HubNotFoundError, linkSnapshot, listRepoFiles, pickGguf, repoCacheDir } from '@cy/hub'
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeHub } from '../support/fake-hub.ts'

const hub = new FakeHub()
const caches: string[] = []
let cache = ''
const previous = process.env.HF_HUB_CACHE
beforeEach(async () => {
  cache = await mkdtemp(join(tmpdir(), 'cy-hub-list-'))
  caches.push(cache)
  process.env.HF_HUB_CACHE = cache
  hub.pageSize = Infinity
})
afterAll(async () => {
  hub.stop()
  if (previous === undefined) delete process.env.HF_HUB_CACHE
  else process.env.HF_HUB_CACHE = previous
  await Promise.all(caches.map((dir) => rm(dir, { recursive: true, force: true })))
})

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 17 + seed) & 0xff)

describe('listRepoFiles', () => {
  test('lists every file across the pages the hub links, with its LFS sha256, skipping folders', async () => {
    const sha = hub.host('org/listed', 'a.gguf', { bytes: bytes(10) })
    hub.host('org/listed', 'b.gguf', { bytes: bytes(20) })
    hub.host('org/listed', 'nested/c.txt', { bytes: bytes(5) })
    hub.pageSize = 2
    const files = await listRepoFiles({ repo: 'org/listed', endpoint: hub.endpoint })
    expect(files.map((file) => file.path).sort()).toEqual(['a.gguf', 'b.gguf', 'nested/c.txt'])
    expect(files.find((file) => file.path === 'a.gguf')).toEqual({ path: 'a.gguf', size: 10, sha256: sha })
    expect(hub.requests.filter((request) => request.path.startsWith('/api/models/org/listed/tree/main')).length).toBe(2)
  })

  test('an unknown repository is a HubNotFoundError', async () => {
    expect(await listRepoFiles({ repo: 'org/none', endpoint: hub.endpoint }).catch((e) => e)).toBeInstanceOf(HubNotFoundError)
  })
})

describe('pickGguf, as llama-server -hf picks', () => {
  const repo = ['README.md', 'm-Q4_K_M.gguf', 'm-Q8_0.gguf', 'm-Q4_K_M_L.gguf', 'mmproj-m-Q8_0.gguf', 'mmproj-m-f16.gguf']
  test('the default quant is Q4_K_M, the projector preferred in f16', () => {
    expect(pickGguf(repo)).toEqual({ model: 'm-Q4_K_M.gguf', mmproj: 'mmproj-m-f16.gguf' })
  })
  test('a quant matches a whole name part, case-insensitively; a file name is taken as it is', () => {
    expect(pickGguf(repo, 'q8_0')?.model).toBe('m-Q8_0.gguf')
    expect(pickGguf(repo, 'Q4_K_M_L')?.model).toBe('m-Q4_K_M_L.gguf')
    expect(pickGguf(repo, 'mmproj-m-Q8_0.gguf')?.model).toBe('mmproj-m-Q8_0.gguf')
    expect(pickGguf(repo, 'IQ2_XS')).toBeUndefined()
  })
  test('a split GGUF is its first shard, with the others beside it; a lone GGUF is taken without a tag', () => {
    expect(pickGguf(['x-Q4_K_M-00002-of-00002.gguf', 'x-Q4_K_M-00001-of-00002.gguf'])).toEqual({ model: 'x-Q4_K_M-00001-of-00002.gguf', shards: ['x-Q4_K_M-00002-of-00002.gguf'] })
    expect(pickGguf(['only-f16.gguf'])).toEqual({ model: 'only-f16.gguf' })
  })
})

describe('deleteCached', () => {
  test('deletes the snapshot entry and its blob, but keeps a blob another snapshot still links', async () => {
    hub.host('org/del', 'a.bin', { bytes: bytes(100, 3) })
    const path = await downloadFile({ repo: 'org/del', file: 'a.bin', endpoint: hub.endpoint })
    const blobs = join(repoCacheDir('org/del', cache), 'blobs')
    const [blob] = await readdir(blobs)
    // Another revision linking the same blob (a tag at an older commit, say).
    await linkSnapshot('org/del', 'v1', 'b'.repeat(40), 'a.bin', blob!, cache)
    expect(await deleteCached('org/del', 'a.bin')).toBe(true)
    expect(await stat(path).catch(() => 'gone')).toBe('gone')
    expect(await findCached('org/del', 'a.bin')).toBeUndefined()
    expect(await readdir(blobs)).toEqual([blob!])
    expect(await deleteCached('org/del', 'a.bin', 'v1')).toBe(true)
    expect(await readdir(blobs)).toEqual([])
    expect(await deleteCached('org/del', 'a.bin')).toBe(false)
  })
})
