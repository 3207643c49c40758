// The Dockerfile's promises, checked on its text (no Docker daemon here; scripts/lint-container.sh builds the
// image where one answers): multi-stage, pinned bases, engines built in a builder stage, non-root, health-checked.
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { argsOf, entrypointArgs, expand, globalArgs, ROOT, runtime, runtimeEnv, serverFlags, stages } from './image-facts.ts'

const stageNames = new Set(stages.map((stage) => stage.name))
const runText = (stage: (typeof stages)[number]) => argsOf(stage, 'RUN').join('\n')

describe('Dockerfile', () => {
  test('is multi-stage, and the runtime stage is built from a variant base, not from the builder', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3)
    expect(runtime.name).toBe('runtime')
    expect(expand(runtime.from.getImage() ?? '')).toBe(`run-${globalArgs.VARIANT}`)
    for (const variant of ['cpu', 'cuda']) for (const kind of ['build', 'run']) expect(stageNames.has(`${kind}-${variant}`)).toBe(true)
  })

  test('every external base image is pinned to a version tag (never latest or untagged)', () => {
    const external = stages.map((stage) => expand(stage.from.getImage() ?? '')).filter((image) => !stageNames.has(image))
    expect(external.length).toBeGreaterThan(0)
    for (const image of external) expect(image).toMatch(/^[\w./-]+:(?!latest$)[\w.-]+$|@sha256:[0-9a-f]{64}$/)
    // Bun's version is the repository's one (scripts/with-bun.mjs and packageManager).
    const withBun = /BUN_VERSION = '([\d.]+)'/.exec(readFileSync(join(ROOT, 'scripts', 'with-bun.mjs'), 'utf8'))?.[1]
    expect(globalArgs.BUN_VERSION).toBe(withBun!)
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).packageManager).toBe(`bun@${globalArgs.BUN_VERSION}`)
  })

  test('installs from the lockfile with every workspace manifest copied first', () => {
    const deps = stages.find((stage) => stage.name === 'deps')!
    expect(runText(deps)).toContain('bun install --frozen-lockfile --production')
    const copied = new Set(argsOf(deps, 'COPY').map((args) => args.split(/\s+/)[0]))
    const workspaces = new Bun.Glob('{packages,apps}/*/package.json')
    const manifests = [...workspaces.scanSync({ cwd: ROOT })]
    expect(manifests.length).toBeGreaterThan(5)
    for (const manifest of manifests) expect(copied.has(manifest)).toBe(true)
  })

  test('builds whisper.cpp in a builder stage, and the runtime only copies the libraries and points at them', () => {
    const builder = stages.find((stage) => runText(stage).includes('engines:build whisper'))!
    expect(builder).toBeDefined()
    expect(builder).not.toBe(runtime)
    expect(runText(builder)).toContain('"--${VARIANT}"')
    expect(argsOf(runtime, 'COPY').some((args) => args.startsWith(`--from=${builder.name} `) && args.includes(runtimeEnv.CY_WHISPER_LIB!.replace(/\/lib$/, '')))).toBe(true)
    // Nothing compiles at run time: no compiler or CMake in the runtime stage; ffmpeg is there.
    expect(runText(runtime)).not.toMatch(/\b(cmake|g\+\+|build-essential)\b/)
    expect(runText(runtime)).toMatch(/\bffmpeg\b/)
  })

  test('runs as a non-root user, with the models and data folders as volumes', () => {
    const users = argsOf(runtime, 'USER')
    expect(users.length).toBe(1)
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/)
    const instructions = runtime.instructions.map((instruction) => instruction.getKeyword())
    expect(instructions.indexOf('USER')).toBeLessThan(instructions.indexOf('ENTRYPOINT'))
    const useradd = /useradd [^\n]*--uid (\d+)[^\n]* (\w+) \\?$/m.exec(runText(runtime))
    expect(useradd?.[2]).toBe(users[0]!.split(':')[0]!)
    expect(Number(useradd?.[1])).toBeGreaterThan(0)
    expect(runtimeEnv.CY_MODELS_DIR).toBe('/models')
    expect(runtimeEnv.CY_RESPONSES_DB).toBe('/data/responses.sqlite')
    expect(JSON.parse(argsOf(runtime, 'VOLUME')[0]!)).toEqual(['/models', '/data'])
  })

  test('serves on every interface, on port 8080, and health-checks /health', () => {
    expect(entrypointArgs[0]).toBe('tini')
    expect(serverFlags.join(' ')).toContain('--host 0.0.0.0')
    expect(runtimeEnv.PORT).toBe('8080')
    expect(argsOf(runtime, 'EXPOSE').join(' ').split(/\s+/)).toContain('8080')
    const healthchecks = argsOf(runtime, 'HEALTHCHECK')
    expect(healthchecks.length).toBe(1)
    expect(healthchecks[0]).toContain('/health')
    expect(healthchecks[0]).toContain('process.env.PORT')
  })

  test('.dockerignore keeps node_modules and everything but the sources out of the context', () => {
    const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim())
    expect(lines).toContain('*')
    expect(lines).toContain('**/node_modules')
    for (const kept of ['!package.json', '!bun.lock', '!packages/', '!apps/']) expect(lines).toContain(kept)
  })
})
