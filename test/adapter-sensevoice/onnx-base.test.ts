// @cy/onnx, the base every ONNX adapter shares: metadata read from the file's header, sessions on the best
// provider with each fallback logged, feeds in the graph's dtypes, and session.run() kept off the main thread.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  checkOnnxRuntimeVersion,
  cudaProviderLibrary,
  feedsFor,
  inputsByPosition,
  installedOnnxRuntimeVersion,
  loadOnnxSession,
  ONNX_RUNTIME_VERSION,
  OnnxFeedError,
  OnnxFormatError,
  OnnxRuntimeVersionError,
  OnnxSessionLoadError,
  readOnnxHeader,
  readOnnxMetadata,
} from '@cy/onnx'
import { OnnxGraphBuilder } from '../fixtures/onnx/graph-builder.ts'
import { attr, encodeOnnxModel, writeOnnxModel, type OnnxModel } from '../fixtures/onnx/onnx-writer.ts'
import { seededRandom } from '../fixtures/seeded-random.ts'
import type { OnnxBaseWorkerReply, OnnxBaseWorkerRequest } from './onnx-base-worker.ts'

let dir: string
const path = (name: string) => join(dir, name)

// What sherpa-onnx's SenseVoice export writes, with the two 560-value CMVN lists as comma-joined text.
const random = seededRandom(13)
const cmvnList = () => Array.from({ length: 560 }, () => (random() * 20 - 10).toFixed(1 + Math.floor(random() * 6))).join(',')
const METADATA: Record<string, string> = {
  model_type: 'sense_voice_ctc',
  vocab_size: '25055',
  lfr_window_size: '7',
  lfr_window_shift: '6',
  normalize_samples: '0',
  neg_mean: cmvnList(),
  inv_stddev: cmvnList(),
  comment: 'SenseVoice 中文 ▁ <|zh|><|HAPPY|> "quoted", commas, and\nnewlines',
  empty: '',
}

// y = a + float(b) + float(c): one input of each dtype feedsFor converts to.
function mixedModel(): OnnxModel {
  const g = new OnnxGraphBuilder([
    { name: 'a', elemType: 'float32', shape: ['N'] },
    { name: 'b', elemType: 'int32', shape: ['N'] },
    { name: 'c', elemType: 'int64', shape: ['N'] },
  ])
  const b = g.op('Cast', ['b'], { to: attr.int(1) })
  const c = g.op('Cast', ['c'], { to: attr.int(1) })
  g.op('Add', [g.op('Add', ['a', b]), c], undefined, 'y')
  return {
    graph: g.graph([{ name: 'y', elemType: 'float32', shape: ['N'] }]),
    opsetImports: [{ version: 13 }, { domain: 'com.microsoft', version: 1 }],
    metadata: METADATA,
  }
}

// Sixteen chained 1024×1024 MatMuls: about half a second of one CPU thread (34 GFLOP).
const MATMUL_SIZE = 1024
function matmulModel(): OnnxModel {
  const shape = [MATMUL_SIZE, MATMUL_SIZE]
  const g = new OnnxGraphBuilder([{ name: 'x', elemType: 'float32', shape }])
  let y = 'x'
  for (let i = 0; i < 16; i++) y = g.op('MatMul', [y, 'x'], undefined, i === 15 ? 'y' : undefined)
  return { graph: g.graph([{ name: 'y', elemType: 'float32', shape }]) }
}

// Hand-written protobuf for the sparse-file cases, which the fixture writer cannot express (it holds every byte).
const text = new TextEncoder()
function varint(n: number): number[] {
  const out: number[] = []
  for (; n >= 128; n = Math.floor(n / 128)) out.push((n % 128) | 128)
  out.push(n)
  return out
}
const lenHeader = (field: number, length: number) => [...varint(field * 8 + 2), ...varint(length)]
const lenField = (field: number, payload: number[]) => [...lenHeader(field, payload.length), ...payload]
const stringField = (field: number, value: string) => lenField(field, [...text.encode(value)])

/** `head`, then a hole of `hole` bytes (sparse: costs no disk), then `tail`. */
function writeSparse(file: string, head: number[], hole: number, tail: number[]): void {
  const fd = openSync(file, 'w')
  try {
    writeSync(fd, Uint8Array.from(head), 0, head.length, 0)
    writeSync(fd, Uint8Array.from(tail), 0, tail.length, head.length + hole)
  } finally {
    closeSync(fd)
  }
}

/** Measures the longest the main thread's 10 ms timer went without a tick while `during` ran. */
async function longestTimerGap(during: () => Promise<number>): Promise<{ runMs: number; gapMs: number }> {
  const ticks = [performance.now()]
  const timer = setInterval(() => ticks.push(performance.now()), 10)
  try {
    const runMs = await during()
    ticks.push(performance.now())
    return { runMs, gapMs: Math.max(...ticks.slice(1).map((t, i) => t - ticks[i]!)) }
  } finally {
    clearInterval(timer)
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cy-onnx-base-'))
  writeOnnxModel(path('mixed.onnx'), mixedModel())
  writeOnnxModel(path('matmul.onnx'), matmulModel())
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the pinned onnxruntime-node', () => {
  test('is the installed one, and another version is a clear error', () => {
    expect(ONNX_RUNTIME_VERSION).toBe('1.30.0')
    expect(installedOnnxRuntimeVersion()).toBe(ONNX_RUNTIME_VERSION)
    expect(() => checkOnnxRuntimeVersion()).not.toThrow()
    expect(() => checkOnnxRuntimeVersion('1.29.0')).toThrow(OnnxRuntimeVersionError)
    expect(() => checkOnnxRuntimeVersion('1.29.0')).toThrow(/onnxruntime-node 1\.29\.0 is installed, but @cy\/onnx is built for 1\.30\.0/)
  })
})

describe('readOnnxHeader', () => {
  test('reads metadata_props back exactly, including the 560-value CMVN lists', async () => {
    const metadata = await readOnnxMetadata(path('mixed.onnx'))
    expect(metadata).toEqual(METADATA)
    expect(metadata.neg_mean!.split(',')).toHaveLength(560)
    expect(metadata.neg_mean!.split(',').map(Number)).toEqual(METADATA.neg_mean!.split(',').map(Number))
  })

  test('gives the graph input and output names, the IR version and the opsets', async () => {
    const header = await readOnnxHeader(path('mixed.onnx'))
    expect(header.inputs).toEqual(['a', 'b', 'c'])
    expect(header.outputs).toEqual(['y'])
    expect(header.irVersion).toBe(8)
    expect(header.opsets).toEqual([
      { domain: '', version: 13 },
      { domain: 'com.microsoft', version: 1 },
    ])
  })

  test('skips a 1 GiB initializer by its length instead of reading it', async () => {
    const hole = 1024 ** 3
    // ModelProto{ ir_version 8, graph{ initializer{ dims, float, name "w", raw_data: 1 GiB }, input x, output y }, metadata }
    const tensorHead = [8, ...varint(hole / 4), 16, 1, ...stringField(8, 'w'), ...lenHeader(9, hole)]
    const graphHead = [...lenHeader(5, tensorHead.length + hole), ...tensorHead]
    const graphTail = [...lenField(11, stringField(1, 'x')), ...lenField(12, stringField(1, 'y'))]
    const head = [8, 8, ...lenHeader(7, graphHead.length + hole + graphTail.length), ...graphHead]
    const tail = [...graphTail, ...lenField(14, [...stringField(1, 'model_type'), ...stringField(2, 'big')])]
    writeSparse(path('big.onnx'), head, hole, tail)

    const before = process.memoryUsage().rss
    const header = await readOnnxHeader(path('big.onnx'))
    expect(header).toEqual({ metadata: { model_type: 'big' }, inputs: ['x'], outputs: ['y'], irVersion: 8, opsets: [] })
    // Reading the file whole would have added a GiB.
    expect(process.memoryUsage().rss - before).toBeLessThan(128 * 1024 ** 2)
  })

  test('refuses a metadata entry over its cap without reading it', async () => {
    const hole = 512 * 1024 ** 2
    writeSparse(path('huge-entry.onnx'), [8, 8, ...lenField(7, []), ...lenHeader(14, hole)], hole - 1, [0])
    const read = readOnnxHeader(path('huge-entry.onnx'))
    await expect(read).rejects.toThrow(OnnxFormatError)
    await expect(readOnnxHeader(path('huge-entry.onnx'))).rejects.toThrow(/a metadata_props entry is 536870912 bytes, more than the 16777216 allowed/)
  })

  test('a garbage file is a clear error naming the file', async () => {
    const next = seededRandom(7)
    writeFileSync(path('random.onnx'), Uint8Array.from({ length: 4096 }, () => Math.floor(next() * 256)))
    writeFileSync(path('text.onnx'), 'this is not a model, just some text\n')
    writeFileSync(path('empty.onnx'), '')
    for (const name of ['random.onnx', 'text.onnx', 'empty.onnx']) {
      const error = await readOnnxHeader(path(name)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(OnnxFormatError)
      expect((error as Error).message).toStartWith(`${path(name)} is not a readable ONNX model: `)
    }
    await expect(readOnnxHeader(path('empty.onnx'))).rejects.toThrow(/no ir_version/)
  })

  test('a truncated file is a clear error, wherever it is cut', async () => {
    const bytes = encodeOnnxModel(mixedModel())
    // Inside the graph, inside the last metadata entry, and after the graph with the metadata gone (no error: a
    // model may have no metadata) — the last to show the first two fail for the cut, not for anything else.
    writeFileSync(path('cut-graph.onnx'), bytes.subarray(0, 40))
    writeFileSync(path('cut-metadata.onnx'), bytes.subarray(0, bytes.length - 3))
    await expect(readOnnxHeader(path('cut-graph.onnx'))).rejects.toThrow(OnnxFormatError)
    await expect(readOnnxHeader(path('cut-graph.onnx'))).rejects.toThrow(/truncated/)
    await expect(readOnnxHeader(path('cut-metadata.onnx'))).rejects.toThrow(/truncated/)
    const bare = encodeOnnxModel({ ...mixedModel(), metadata: {} })
    writeFileSync(path('no-metadata.onnx'), bare)
    expect((await readOnnxHeader(path('no-metadata.onnx'))).metadata).toEqual({})
  })
})

describe('loadOnnxSession and feedsFor', () => {
  test('runs on CPU with float, int32 and int64 inputs converted to the graph dtypes', async () => {
    const { session, provider } = await loadOnnxSession(path('mixed.onnx'), { providers: ['cpu'], threads: 1 })
    try {
      expect(provider).toBe('cpu')
      const feeds = feedsFor(session, {
        a: { data: [0.5, 1.5, 2.5], dims: [3] },
        b: { data: [1, 2, 3], dims: [3] },
        c: { data: [10, 20, 30], dims: [3] },
      })
      expect(feeds.a!.type).toBe('float32')
      expect(feeds.b!.type).toBe('int32')
      expect(feeds.b!.data).toBeInstanceOf(Int32Array)
      expect(feeds.c!.type).toBe('int64')
      expect(feeds.c!.data).toEqual(BigInt64Array.from([10n, 20n, 30n]))
      const out = await session.run(feeds)
      expect([...(out.y!.data as Float32Array)]).toEqual([11.5, 23.5, 35.5])

      // A typed array already in the graph's dtype is handed over as is; another is converted.
      const a = Float32Array.from([1, 2])
      const c = BigInt64Array.from([3n, 4n])
      const typed = feedsFor(session, { a: { data: a, dims: [2] }, b: { data: Float32Array.from([5, 6]), dims: [2] }, c: { data: c, dims: [2] } })
      expect(typed.a!.data).toBe(a)
      expect(typed.c!.data).toBe(c)
      expect(typed.b!.data).toEqual(Int32Array.from([5, 6]))
      expect([...((await session.run(typed)).y!.data as Float32Array)]).toEqual([9, 12])
    } finally {
      await session.release()
    }
  })

  test('feedsFor names an input the graph lacks, a missing one, a bad size and a fraction for an integer', async () => {
    const { session } = await loadOnnxSession(path('mixed.onnx'), { providers: ['cpu'], threads: 1 })
    try {
      const ok = { a: { data: [1], dims: [1] }, b: { data: [1], dims: [1] }, c: { data: [1], dims: [1] } }
      expect(() => feedsFor(session, { ...ok, d: { data: [1], dims: [1] } })).toThrow(OnnxFeedError)
      expect(() => feedsFor(session, { ...ok, d: { data: [1], dims: [1] } })).toThrow("'d' is not an input of this graph (its inputs: a, b, c)")
      expect(() => feedsFor(session, { a: ok.a, b: ok.b })).toThrow("the graph's input 'c' was not given (its inputs: a, b, c)")
      expect(() => feedsFor(session, { ...ok, a: { data: [1, 2], dims: [3] } })).toThrow("input 'a': dims [3] do not fit its 2 values")
      expect(() => feedsFor(session, { ...ok, a: { data: [1, 2], dims: [1, 2] } })).toThrow("input 'a': dims [1, 2] do not match the graph's [N]")
      expect(() => feedsFor(session, { ...ok, c: { data: [1.5], dims: [1] } })).toThrow("input 'c' is an integer tensor, but was given 1.5")
    } finally {
      await session.release()
    }
  })

  test('inputsByPosition gives the graph order, for exports that name the inputs differently', async () => {
    const { session } = await loadOnnxSession(path('mixed.onnx'), { providers: ['cpu'], threads: 1 })
    try {
      expect(inputsByPosition(session)).toEqual(['a', 'b', 'c'])
      expect(inputsByPosition(session, 3)).toEqual(['a', 'b', 'c'])
      expect(() => inputsByPosition(session, 4)).toThrow('the graph has 3 inputs (a, b, c), 4 expected')
    } finally {
      await session.release()
    }
  })

  test('logs each provider it cannot use, with the reason, and falls back to the next', async () => {
    const lines: string[] = []
    const { session, provider } = await loadOnnxSession(path('mixed.onnx'), {
      providers: ['cuda', 'coreml', 'cpu'],
      threads: 1,
      log: (line) => lines.push(line),
    })
    try {
      // CoreML is macOS only; CUDA depends on whether its provider library was downloaded on this machine.
      expect(lines).toContain(`onnx: coreml skipped: CoreML is macOS only (this is ${process.platform}); trying cpu`)
      if (existsSync(cudaProviderLibrary())) {
        expect(provider === 'cuda' || lines.some((line) => line.startsWith('onnx: cuda failed: '))).toBe(true)
      } else {
        expect(provider).toBe('cpu')
        expect(lines[0]).toStartWith('onnx: cuda skipped: ')
        expect(lines[0]).toContain('libonnxruntime_providers_cuda.so is absent')
        expect(lines[0]).toContain('script/install.js')
        expect(lines[0]).toEndWith('; trying coreml')
        expect(lines.at(-1)).toBe(`onnx: ${path('mixed.onnx')} loaded on cpu (1 threads)`)
      }
    } finally {
      await session.release()
    }
  })

  test('a file no provider can load is an OnnxSessionLoadError listing each attempt', async () => {
    writeFileSync(path('not-a-model.onnx'), 'not a model')
    const error = await loadOnnxSession(path('not-a-model.onnx'), { providers: ['coreml', 'cpu'] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OnnxSessionLoadError)
    expect((error as OnnxSessionLoadError).attempts.map((a) => a.provider)).toEqual(['coreml', 'cpu'])
    expect((error as Error).message).toStartWith(`could not create an ONNX session for ${path('not-a-model.onnx')}: coreml: CoreML is macOS only`)
    await expect(loadOnnxSession(path('mixed.onnx'), { providers: [] })).rejects.toThrow('no execution provider was asked for')
  })
})

describe('session.run() and the event loop', () => {
  const input = () => new Float32Array(MATMUL_SIZE * MATMUL_SIZE).fill(1 / MATMUL_SIZE)

  test('on the main thread it starves the timers (why sessions live in Workers)', async () => {
    const { session } = await loadOnnxSession(path('matmul.onnx'), { providers: ['cpu'], threads: 1 })
    try {
      const feeds = feedsFor(session, { x: { data: input(), dims: [MATMUL_SIZE, MATMUL_SIZE] } })
      const { runMs, gapMs } = await longestTimerGap(async () => {
        const started = performance.now()
        await session.run(feeds)
        return performance.now() - started
      })
      expect(runMs).toBeGreaterThan(200)
      expect(gapMs).toBeGreaterThan(runMs * 0.9)
    } finally {
      await session.release()
    }
  })

  test('inside a Worker it leaves the main thread ticking, its input transferred, not copied', async () => {
    const worker = new Worker(new URL('./onnx-base-worker.ts', import.meta.url).href)
    try {
      const replies: OnnxBaseWorkerReply[] = []
      let wake: (() => void) | undefined
      worker.onmessage = (event: MessageEvent<OnnxBaseWorkerReply>) => {
        replies.push(event.data)
        wake?.()
      }
      const reply = async (): Promise<OnnxBaseWorkerReply> => {
        while (replies.length === 0) await new Promise<void>((resolve) => (wake = resolve))
        return replies.shift()!
      }

      const data = input()
      const request: OnnxBaseWorkerRequest = { path: path('matmul.onnx'), name: 'x', data, dims: [MATMUL_SIZE, MATMUL_SIZE] }
      worker.postMessage(request, [data.buffer])
      expect(data.byteLength).toBe(0)
      expect(await reply()).toEqual({ type: 'loaded' })

      let done: OnnxBaseWorkerReply | undefined
      const { runMs, gapMs } = await longestTimerGap(async () => {
        worker.postMessage('run')
        done = await reply()
        return done.type === 'done' ? done.runMs : 0
      })
      expect(done).toMatchObject({ type: 'done' })
      // MatMuls of a 1/1024-filled matrix by itself leave every entry at 1/1024.
      expect((done as { first: number }).first).toBeCloseTo(1 / MATMUL_SIZE, 6)
      expect(runMs).toBeGreaterThan(200)
      expect(gapMs).toBeLessThan(runMs / 2)
    } finally {
      worker.terminate()
    }
  })
})
