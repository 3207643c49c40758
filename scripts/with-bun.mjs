#!/usr/bin/env node
// `npm start` and `npm test` on a machine with only Node.js and npm: find Bun (or install it from npm
// into .cache/bun), install the workspace's dependencies when they are missing or stale, then run.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BUN_VERSION = '1.4.5'
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const [command = 'start', ...rest] = process.argv.slice(2)

function works(bin) {
  return spawnSync(bin, ['--version'], { stdio: 'ignore', shell: process.platform === 'win32' }).status === 0
}

function findBun() {
  if (process.versions.bun) return process.execPath
  const local = join(root, '.cache', 'bun', 'node_modules', '.bin', process.platform === 'win32' ? 'bun.cmd' : 'bun')
  for (const candidate of [process.env.BUN_BIN, 'bun', local]) if (candidate && works(candidate)) return candidate
  console.error(`[with-bun] Bun not found: installing bun@${BUN_VERSION} from npm into .cache/bun`)
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const args = ['install', '--prefix', join(root, '.cache', 'bun'), '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `bun@${BUN_VERSION}`]
  const result = spawnSync(npm, args, { stdio: 'inherit' })
  if (result.status !== 0 || !works(local)) {
    console.error('[with-bun] Could not install Bun. Install it yourself (npm i -g bun) and run again.')
    process.exit(1)
  }
  return local
}

function installIfNeeded(bun) {
  const marker = join(root, 'node_modules', '.bun-install-stamp')
  const lock = join(root, 'bun.lock')
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return
  const result = spawnSync(bun, ['install', '--frozen-lockfile'], { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
  spawnSync(bun, ['-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`], { cwd: root })
}

function run(bin, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd: root, stdio: options.capture ? ['inherit', 'pipe', 'pipe'] : 'inherit' })
    let output = ''
    if (options.capture) {
      child.stdout.on('data', (data) => {
        process.stdout.write(data)
        output += data
      })
      child.stderr.on('data', (data) => {
        process.stderr.write(data)
        output += data
      })
    }
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }))
  })
}

/**
 * What the engine tests need from the system: CMake and a C++ compiler (the whisper and sdxl adapters build
 * whisper.cpp and stable-diffusion.cpp once) and espeak-ng (the tts adapter's phonemizer). On a machine
 * without them where we may install system packages (root, apt), install them; else say what is missing.
 */
function ensureSystemPackages() {
  const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0
  const hasEspeak = spawnSync('sh', ['-c', 'ldconfig -p | grep -q libespeak-ng.so.1'], { stdio: 'ignore' }).status === 0
  const missing = [...(has('cmake') ? [] : ['cmake']), ...(has('c++') || has('g++') ? [] : ['g++']), ...(has('git') ? [] : ['git']), ...(hasEspeak ? [] : ['libespeak-ng1', 'espeak-ng-data'])]
  if (missing.length === 0) return
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  if (process.platform === 'linux' && isRoot && has('apt-get')) {
    console.error(`[with-bun] installing ${missing.join(' ')} (apt-get): the engine tests build whisper.cpp, stable-diffusion.cpp and llama-server (from a git bundle) once, and speak through espeak-ng`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env })
  } else {
    console.error(`[with-bun] missing ${missing.join(', ')}: the engine tests need them (CMake and a C++ compiler to build the engines, espeak-ng to phonemize)`)
  }
}

/** Engine-tier files outside test/adapter-* and test/native: they serve a real engine through another front (gRPC's TrainingService trains the tiny llama). */
const ENGINE_ELSEWHERE = new Set(['./test/grpc/training-service.test.ts'])

/**
 * The test files of each tier: the engine tier is every test that loads or builds a real engine (under
 * test/adapter-* and test/native, the library resolver's), the unit tier the rest.
 */
function testTiers() {
  const files = []
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.test.ts')) files.push(`./${path}`)
    }
  }
  walk('test')
  files.sort()
  const engine = files.filter((file) => file.startsWith('./test/adapter-') || file.startsWith('./test/native/') || ENGINE_ELSEWHERE.has(file))
  return { unit: files.filter((file) => !engine.includes(file)), engine }
}

const bun = findBun()
installIfNeeded(bun)

if (command === 'start') {
  const { code } = await run(bun, [join('apps', 'server', 'src', 'main.ts'), ...rest])
  process.exit(code)
} else if (command === 'test') {
  ensureSystemPackages()
  const typecheck = await run(bun, ['x', 'tsc', '-p', 'tsconfig.json', '--noEmit'])
  if (typecheck.code !== 0) {
    console.error('[with-bun] typecheck failed')
    process.exit(typecheck.code)
  }
  // Two tiers, run one after the other: the fast unit tier first, then the tier that loads real engines
  // (each of its files in a process of its own). `npm test -- unit|engine` runs one;
  // any other arguments go to `bun test` as they are.
  const tiers = testTiers()
  const chosen = rest[0] === 'unit' || rest[0] === 'engine' ? [rest[0]] : rest.length ? [] : ['unit', 'engine']
  // Arguments after a tier name (`npm test -- unit -t health`) go to that tier's `bun test`.
  const runs = chosen.length ? chosen.map((tier) => [tier, [...tiers[tier], ...rest.slice(1)]]) : [['selected', rest]]
  let failedTier = 0
  let passed = 0
  let failed = 0
  /** Runs one `bun test`; its " N pass" / " N fail" lines are added to the totals. */
  const bunTest = async (timeout, args, { noMatchIsFine = false } = {}) => {
    // bunfig's [test] timeout is not applied by this Bun, so the per-test limit is passed here.
    const { code, output } = await run(bun, ['test', '--timeout', timeout, ...args], { capture: true })
    const count = (word) => Number(new RegExp(`^\\s*(\\d+) ${word}$`, 'm').exec(output)?.[1] ?? 0)
    passed += count('pass')
    failed += count('fail')
    // A `-t` filter that no test of one engine file matches is not a failure of the tier.
    const unmatched = noMatchIsFine && /matched 0 tests/.test(output) && count('fail') === 0
    if (code !== 0 && !unmatched && failedTier === 0) failedTier = code
  }
  for (const [tier, args] of runs) {
    const files = args.filter((arg) => arg.endsWith('.test.ts'))
    const flags = args.filter((arg) => !arg.endsWith('.test.ts'))
    console.log(`\n[with-bun] ${tier} tier: bun test ${files.length} file(s)`)
    if (tier !== 'engine') {
      await bunTest('30000', args)
      continue
    }
    // The engines the engine tier loads are found or built first, with their progress shown. Then each
    // file runs in a process of its own: its engines' threads, memory and process-wide native state
    // (espeak-ng, the engines' callbacks) are its own, and its timing checks see only its own work.
    await run(bun, [join('scripts', 'prepare-engines.ts')])
    for (const file of files) await bunTest('120000', [file, ...flags], { noMatchIsFine: flags.length > 0 })
  }
  console.log(`\ntests: ${passed} passed, ${failed} failed`)
  process.exit(failedTier)
} else {
  const { code } = await run(bun, [command, ...rest])
  process.exit(code)
}
