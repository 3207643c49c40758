import { resolveLlamaLibrary } from '@cy/adapter-llama'
import { readGguf, withFile } from '../../packages/native/src/index.ts'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { graphPadding } from '../../packages/adapter-llama/src/training/graph-padding.ts'
import { TrainingRun } from '../../packages/adapter-llama/src/training/training-run.ts'
import { packWindows } from '../../packages/adapter-llama/src/training/training-windows.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'

// llama.cpp sizes a context's graph for inference, and from about 8 layers on llama_opt's backward pass
// overflows it (an abort in ggml_build_backward_expand). Zero LoRA adapters loaded on the model make room
// (graph-padding.ts): these tests train deep tiny llamas with them, and show the abort without.
const dir = mkdtempSync(join(tmpdir(), 'cy-training-padding-'))
const CONTEXT = 256
let libDir: string

beforeAll(async () => {
  libDir = (await resolveLlamaLibrary(undefined)).dir
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function epochLoss(modelPath: string, padding: Awaited<ReturnType<typeof graphPadding>>): number {
  const run = new TrainingRun({ libDir, modelPath, threads: 2, contextSize: CONTEXT, ...(padding ? { padding } : {}) })
  try {
    run.dataset(packWindows(run.tokenize('Quick fox.\n'.repeat(60)), CONTEXT))
    return run.epoch({ learningRate: 1e-3 }).trainLoss
  } finally {
    run.dispose()
  }
}

describe('graph padding for training deep models', () => {
  test('a model that fits without it trains to the very same loss with it: the padding changes no weight', async () => {
    const model = await writeTinyLlama(join(dir, 'six.gguf'), { layers: 6 })
    const padding = await graphPadding(await withFile(model, readGguf), dir)
    expect(padding?.count).toBeGreaterThan(0)
    expect(epochLoss(model, padding)).toBe(epochLoss(model, undefined))
  })

  test('a 16-layer model aborts llama.cpp without it (in a child process) and trains with it', async () => {
    const model = await writeTinyLlama(join(dir, 'sixteen.gguf'), { layers: 16 })
    const script = join(dir, 'unpadded.ts')
    const source = (path: string) => JSON.stringify(new URL(path, import.meta.url).pathname)
    writeFileSync(
      script,
      `import { TrainingRun } from ${source('../../packages/adapter-llama/src/training/training-run.ts')}
import { packWindows } from ${source('../../packages/adapter-llama/src/training/training-windows.ts')}
const run = new TrainingRun({ libDir: ${JSON.stringify(libDir)}, modelPath: ${JSON.stringify(model)}, threads: 2, contextSize: ${CONTEXT} })
run.dataset(packWindows(run.tokenize('Quick fox.\\n'.repeat(60)), ${CONTEXT}))
run.epoch({ learningRate: 1e-3 })
console.log('trained')`,
    )
    const child = Bun.spawn([process.execPath, script], { stdout: 'pipe', stderr: 'pipe' })
    const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()])
    expect(stdout).not.toContain('trained')
    expect(code).not.toBe(0)
    expect(stderr).toContain('GGML_ASSERT(cgraph->n_nodes < cgraph->size)')

    const padding = await graphPadding(await withFile(model, readGguf), dir)
    expect(padding!.count).toBeGreaterThan(0)
    const loss = epochLoss(model, padding)
    expect(Number.isFinite(loss)).toBe(true)
    expect(loss).toBeGreaterThan(0)
  })
})
