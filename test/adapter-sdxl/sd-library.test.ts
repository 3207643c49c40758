import { SD_CPP_COMMIT, buildEngine, resolveSdLibrary } from '@cy/adapter-sdxl'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

// The real library: the cached build, or one built now (about 10 minutes on 2 cores, once per machine).
let realLib: string
let root: string

/** A copy of the real build's folder (lib/, include/, share/), with or without its build stamp. */
function copyBuild(name: string, stamp: object | undefined): string {
  const dir = join(root, name)
  for (const folder of ['lib', 'include', 'share']) cpSync(join(dirname(realLib), folder), join(dir, folder), { recursive: true })
  const stampFile = join(dir, 'lib', 'sd-build.json')
  if (stamp) writeFileSync(stampFile, JSON.stringify(stamp))
  else rmSync(stampFile, { force: true })
  return join(dir, 'lib')
}

/** Runs `work` with CY_CACHE_DIR pointing at `cache`. */
async function withCache<T>(cache: string, work: () => Promise<T>): Promise<T> {
  const before = process.env.CY_CACHE_DIR
  process.env.CY_CACHE_DIR = cache
  try {
    return await work()
  } finally {
    if (before === undefined) delete process.env.CY_CACHE_DIR
    else process.env.CY_CACHE_DIR = before
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cy-sd-library-'))
  realLib = (await resolveSdLibrary(undefined, (line) => console.error(`[sd-library test] ${line}`))).libDir
}, 1_200_000)
afterAll(() => rm(root, { recursive: true, force: true }))

describe('finding libstable-diffusion', () => {
  test('a libPath that fails its smoke test is logged and skipped; the cached build comes next', async () => {
    const fake = join(root, 'fake')
    mkdirSync(fake, { recursive: true })
    // A file under the engine's name that is no library at all.
    writeFileSync(join(fake, 'libstable-diffusion.so'), 'not an ELF file')
    const lines: string[] = []
    const found = await resolveSdLibrary(join(fake, 'libstable-diffusion.so'), (line) => lines.push(line))
    expect(found.libDir).toBe(realLib)
    expect(found.source).toStartWith('cache (')
    expect(found.version).toBe(SD_CPP_COMMIT)
    expect(lines.some((line) => line.startsWith(`skipped libPath (${fake}): it failed to load`))).toBe(true)
    expect(lines.some((line) => line.startsWith(`stable-diffusion.cpp ${SD_CPP_COMMIT} from cache (`))).toBe(true)
  }, 120_000)

  test('a cached build is found by its folder under the cache root, with its own header and CLIP merges', async () => {
    const cache = join(root, 'cache')
    const lib = copyBuild('cache/sd/97d29908-cpu', { commit: SD_CPP_COMMIT, backend: 'cpu', source: 'test', builtAt: 'now' })
    const found = await withCache(cache, () => resolveSdLibrary(undefined))
    expect(found).toEqual({
      libDir: lib,
      headerDirs: [join(dirname(lib), 'include')],
      mergesFile: join(dirname(lib), 'share', 'clip_merges.hpp'),
      source: 'cache (cpu)',
      version: SD_CPP_COMMIT,
    })
  }, 120_000)

  test('version check: a build that says "unknown" is taken only with a stamp naming the pinned commit', async () => {
    const unstamped = copyBuild('unstamped', undefined)
    const otherCommit = copyBuild('other-commit', { commit: '0123456789abcdef0123456789abcdef01234567', backend: 'cpu', source: 'test', builtAt: 'now' })
    const pinned = copyBuild('pinned', { commit: SD_CPP_COMMIT, backend: 'cpu', source: 'test', builtAt: 'now' })
    for (const [dir, shown] of [
      [unstamped, 'unknown'],
      [otherCommit, '0123456789abcdef0123456789abcdef01234567'],
    ] as const) {
      const lines: string[] = []
      const found = await resolveSdLibrary(dir, (line) => lines.push(line))
      expect(found.libDir).toBe(realLib)
      expect(lines).toContain(`skipped libPath (${dir}): it is stable-diffusion.cpp ${shown}; this adapter is built for ${SD_CPP_COMMIT}`)
    }
    const found = await resolveSdLibrary(pinned)
    expect([found.libDir, found.source, found.version]).toEqual([pinned, 'libPath', SD_CPP_COMMIT])
  }, 120_000)

  test('CY_SD_LIB is the same as libPath when the option is absent', async () => {
    const pinned = copyBuild('by-env', { commit: SD_CPP_COMMIT, backend: 'cpu', source: 'test', builtAt: 'now' })
    process.env.CY_SD_LIB = join(pinned, 'libstable-diffusion.so')
    try {
      const found = await resolveSdLibrary(undefined)
      expect([found.libDir, found.source]).toEqual([pinned, 'CY_SD_LIB'])
    } finally {
      delete process.env.CY_SD_LIB
    }
  }, 120_000)
})

describe('building stable-diffusion.cpp', () => {
  test('sources that are missing, lack ggml, or are at another commit are refused before anything builds, saying how to get them', async () => {
    const cache = join(root, 'build-cache')
    const attempt = (source: string) => withCache(cache, () => buildEngine({ backend: 'cpu', source, log: () => {} })).catch((e: Error) => e.message)
    expect(await attempt(join(root, 'nowhere'))).toContain(`git clone --recursive https://github.com/leejet/stable-diffusion.cpp`)
    const noGgml = join(root, 'no-ggml')
    mkdirSync(noGgml, { recursive: true })
    writeFileSync(join(noGgml, 'CMakeLists.txt'), '')
    expect(await attempt(noGgml)).toContain('lacks the ggml submodule')
    mkdirSync(join(noGgml, 'ggml'), { recursive: true })
    writeFileSync(join(noGgml, 'ggml', 'CMakeLists.txt'), '')
    expect(await attempt(noGgml)).toContain(`Cannot tell which commit ${noGgml} is at`)
    writeFileSync(join(noGgml, 'VENDOR.md'), 'commit `0123456789abcdef0123456789abcdef01234567`')
    expect(await attempt(noGgml)).toContain(`is at 0123456789abcdef0123456789abcdef01234567; this adapter is pinned to ${SD_CPP_COMMIT}`)
  })

  test('`bun run engines:build` names the engines it can build when given none it knows', async () => {
    const child = Bun.spawn([process.execPath, join(import.meta.dir, '../../scripts/engines-build.ts'), 'nope'], { stdout: 'pipe', stderr: 'pipe' })
    const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
    expect(code).toBe(2)
    expect(stderr).toContain('usage: bun run engines:build <')
    expect(stderr).toContain('sdxl')
    expect(stderr).toContain('whisper')
  })
})
