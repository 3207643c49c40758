import { NoLibraryFoundError, resolveEngineLibrary, type EngineLibrarySpec } from '../../packages/native/src/index.ts'
import { resolveWhisperLibrary } from '@cy/adapter-whisper'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const WHISPER_SMOKE = join(import.meta.dir, '../../packages/adapter-whisper/src/library/smoke-test.ts')
const FLAKY_SMOKE = join(import.meta.dir, 'fixtures/flaky-smoke.ts')

let root: string
let realWhisper: string
/** A folder with a real shared library named libwhisper.so that is not whisper.cpp (ggml's base library). */
let notWhisper: string

const spec = (over: Partial<EngineLibrarySpec>): EngineLibrarySpec => ({
  engine: 'whisper.cpp',
  version: '1.9.1',
  smokeScript: WHISPER_SMOKE,
  candidates: [],
  hint: 'Set CY_WHISPER_LIB.',
  ...over,
})

/** A folder for the flaky smoke script: fails `failFirst` times, then reports `version`. */
async function flakyDir(name: string, failFirst: number, version = '1.9.1'): Promise<string> {
  const dir = join(root, name)
  await Bun.write(join(dir, 'fail-first'), String(failFirst))
  await writeFile(join(dir, 'version'), version)
  return dir
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cy-native-resolve-'))
  realWhisper = (await resolveWhisperLibrary(undefined)).libDir
  notWhisper = join(root, 'not-whisper')
  await Bun.write(join(notWhisper, '.keep'), '')
  copyFileSync(join(realWhisper, 'libggml-base.so'), join(notWhisper, 'libwhisper.so'))
}, 900_000)
afterAll(() => rm(root, { recursive: true, force: true }))

describe('one resolver for the engine libraries', () => {
  test('a library that is not whisper.cpp: a clear error listing every candidate tried, the smoke test’s whole stderr kept', async () => {
    const error = await resolveEngineLibrary(
      spec({ candidates: [{ source: 'CY_WHISPER_LIB', dir: notWhisper }, { source: 'cache (cuda)', dir: undefined }] }),
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NoLibraryFoundError)
    const message = (error as Error).message
    expect(message).toStartWith('No usable whisper.cpp library. Tried:')
    expect(message).toContain(`CY_WHISPER_LIB (${notWhisper}): it failed to load`)
    expect(message).toContain('cache (cuda): not installed')
    expect(message).toContain('Set CY_WHISPER_LIB.')
    // The cause (a whisper symbol missing from that library), not only the child's last line ("Bun v1.x (Linux x64)").
    expect(message).toMatch(/whisper_\w+/)
    expect(message).toMatch(/Bun v\d/)
  }, 60_000)

  test('the whisper adapter smoke-tests CY_WHISPER_LIB instead of trusting it: logged, skipped, the cache comes next', async () => {
    const lines: string[] = []
    const found = await resolveWhisperLibrary(join(notWhisper, 'libwhisper.so'), (line) => lines.push(line))
    expect(found.libDir).toBe(realWhisper)
    expect(found.version).toBe('1.9.1')
    expect(lines.some((line) => line.startsWith(`skipped libPath (${notWhisper}): it failed to load`))).toBe(true)
  }, 60_000)

  test('a library of another version than the pinned one is refused', async () => {
    const error = await resolveEngineLibrary(spec({ version: '1.8.0', candidates: [{ source: 'cache (cpu)', dir: realWhisper }] })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NoLibraryFoundError)
    expect((error as Error).message).toContain(`cache (cpu) (${realWhisper}): it is whisper.cpp 1.9.1; this adapter is built for 1.8.0`)
    const flaky = await flakyDir('old-version', 0, '1.7.4')
    const old = await resolveEngineLibrary(spec({ smokeScript: FLAKY_SMOKE, candidates: [{ source: 'old', dir: flaky }] })).catch((e: unknown) => e)
    expect((old as Error).message).toContain('it is whisper.cpp 1.7.4; this adapter is built for 1.9.1')
  }, 60_000)

  test('a smoke test that fails once is retried once, and the library is used', async () => {
    const lines: string[] = []
    const dir = await flakyDir('fails-once', 1)
    const found = await resolveEngineLibrary(spec({ smokeScript: FLAKY_SMOKE, candidates: [{ source: 'flaky', dir }] }), (line) => lines.push(line))
    expect([found.dir, found.version, found.smoke.extra]).toEqual([dir, '1.9.1', 42])
    expect(lines.some((line) => line.includes('trying once more') && line.includes('attempt 1'))).toBe(true)
  }, 60_000)

  test('one that fails twice is skipped with its whole stderr; the next candidate, made on demand, is used', async () => {
    const broken = await flakyDir('fails-twice', 2)
    const good = await flakyDir('good', 0)
    let built = 0
    const found = await resolveEngineLibrary(
      spec({
        smokeScript: FLAKY_SMOKE,
        candidates: [
          { source: 'broken', dir: broken },
          { source: 'build', dir: async () => (built++, good) },
        ],
      }),
    )
    expect([found.source, built]).toEqual(['build', 1])
    // Failures are not remembered: once the library loads (its third run here), it is used.
    expect((await resolveEngineLibrary(spec({ smokeScript: FLAKY_SMOKE, candidates: [{ source: 'broken', dir: broken }] }))).dir).toBe(broken)
    const again = await flakyDir('fails-four-times', 4)
    const failure = await resolveEngineLibrary(spec({ smokeScript: FLAKY_SMOKE, candidates: [{ source: 'again', dir: again }] })).catch((e: unknown) => e)
    expect((failure as Error).message).toContain('first line of the real cause (attempt 2)\n')
    expect((failure as Error).message).toContain('a middle line')
    expect((failure as Error).message).toContain('the engine failed to load')
  }, 60_000)
})
