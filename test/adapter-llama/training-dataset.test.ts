import { resolveLlamaLibrary } from '@cy/adapter-llama'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Pointer } from 'bun:ffi'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LlamaNative } from '../../packages/adapter-llama/src/native/llama-native.ts'
import { trainingChatRenderer } from '../../packages/adapter-llama/src/training/training-chat.ts'
import { TrainingDatasetError } from '../../packages/adapter-llama/src/training/training-dataset-error.ts'
import { loadTrainingDataset, type TrainingDatasetOptions } from '../../packages/adapter-llama/src/training/training-dataset.ts'
import { TrainingRun } from '../../packages/adapter-llama/src/training/training-run.ts'
import { CHATML_TEMPLATE, writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'

// The dataset loader with the tiny llama's real tokenizer (llama_tokenize through LlamaNative): the
// formats, the packing TrainingRun.dataset takes, the eval split, and the refusals a job reports.
const root = mkdtempSync(join(tmpdir(), 'cy-training-dataset-'))
const data = join(root, 'data')
const outside = join(root, 'outside')
mkdirSync(data)
mkdirSync(outside)
let libDir: string
let modelPath: string
let native: LlamaNative
let model: Pointer
let vocab: Pointer
let eos: number

beforeAll(async () => {
  libDir = (await resolveLlamaLibrary(undefined)).dir
  modelPath = await writeTinyLlama(join(root, 'tiny.gguf'))
  native = new LlamaNative(libDir)
  model = native.loadModel(modelPath, 0)!
  vocab = native.vocab(model)
  eos = native.calls.llama_vocab_eos(vocab)
})
afterAll(() => {
  native?.calls.llama_model_free(model)
  rmSync(root, { recursive: true, force: true })
})

const tokenize = (text: string, special: boolean) => native.tokenize(vocab, text, true, special)
const renderChat = trainingChatRenderer(CHATML_TEMPLATE, '<s>', '</s>')

function file(name: string, text: string, dir = data): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const load = (path: string, options: Partial<TrainingDatasetOptions> = {}) =>
  loadTrainingDataset({ path, allowedDirs: [data], tokenize, renderChat, window: 8, eos, ...options })

/** The token stream the windows cover, rebuilt: each window's first `window` tokens, then the last one's rest. */
function unpack(windows: Int32Array[], window: number): number[] {
  return [...windows.flatMap((w) => [...w.subarray(0, window)]), ...windows.at(-1)!.subarray(window)]
}

/** The loader's error, for asserting on its fields. */
async function refusal(promise: Promise<unknown>): Promise<TrainingDatasetError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(TrainingDatasetError)
  const typed = error as TrainingDatasetError
  expect(typed.field).toBe('datasetPath')
  return typed
}

describe('loadTrainingDataset', () => {
  test('JSONL {"text"} records are tokenized, joined by EOS and packed into windows of window + 1 shifted by one', async () => {
    const texts = ['The quick brown fox.', 'Jumps over the lazy dog.', 'Again and again.']
    const dataset = await load(file('text.jsonl', texts.map((text) => JSON.stringify({ text })).join('\n') + '\n\n'))
    const stream = texts.flatMap((text) => [...tokenize(text, false), eos])
    expect(dataset.examples).toBe(3)
    expect(dataset.tokens).toBe(stream.length)
    expect(dataset.warnings).toEqual([])
    expect(dataset.eval).toEqual([])
    expect(dataset.evalSplit).toBe(0)
    const windows = dataset.train
    expect(windows.every((w) => w instanceof Int32Array && w.length === 9)).toBe(true)
    // Consecutive windows share one token: a window's last token (the last label) starts the next.
    for (let i = 1; i < windows.length; i++) expect(windows[i]![0]).toBe(windows[i - 1]![8]!)
    // Every next-token pair of the stream is in one window; the last window is completed from the start.
    const covered = unpack(windows, 8)
    expect(covered.slice(0, stream.length)).toEqual(stream)
    expect(covered.slice(stream.length)).toEqual(stream.slice(0, covered.length - stream.length))
    expect(windows.length).toBe(Math.ceil((stream.length - 1) / 8))
  })

  test('a JSON array of {"prompt","completion"} trains on prompt + completion, and warns that the loss covers the prompt too', async () => {
    const records = [
      { prompt: 'Q: 2+2?\nA:', completion: ' 4' },
      { prompt: 'Q: 3+3?\nA:', completion: ' 6' },
    ]
    const dataset = await load(file('pairs.json', JSON.stringify(records)))
    expect(dataset.examples).toBe(2)
    const stream = records.flatMap(({ prompt, completion }) => [...tokenize(prompt + completion, false), eos])
    expect(unpack(dataset.train, 8).slice(0, stream.length)).toEqual(stream)
    expect(dataset.warnings).toHaveLength(1)
    expect(dataset.warnings[0]).toContain('cannot mask labels')
  })

  test('{"messages"} are rendered with the chat template and its markup read as special tokens', async () => {
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
    ]
    const dataset = await load(file('chat.jsonl', JSON.stringify({ messages })), { window: 64 })
    const rendered = renderChat(messages)
    expect(rendered).toContain('<|im_start|>assistant\nHello!<|im_end|>')
    const imStart = native.tokenize(vocab, '<|im_start|>', false, true)
    expect(imStart).toHaveLength(1)
    const stream = [...tokenize(rendered, true), eos]
    expect(stream).toContain(imStart[0]!)
    expect(unpack(dataset.train, 64).slice(0, stream.length)).toEqual(stream)
    expect(dataset.warnings[0]).toContain('cannot mask labels')
  })

  test('any other file is plain text: the whole file one example; shorter than a window, it is repeated to fill one', async () => {
    const text = 'Line one.\nLine two.\n'
    const dataset = await load(file('notes.txt', text), { window: 256 })
    const stream = [...tokenize(text, false), eos]
    expect(dataset.examples).toBe(1)
    expect(dataset.tokens).toBe(stream.length)
    expect(dataset.train).toHaveLength(1)
    expect([...dataset.train[0]!]).toEqual(Array.from({ length: 257 }, (_, i) => stream[i % stream.length]!))
    expect(dataset.warnings.some((w) => w.includes('repeated to fill'))).toBe(true)
  })

  test('evalFraction holds out the last windows, and evalSplit makes TrainingRun evaluate exactly those', async () => {
    const path = file('split.jsonl', Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: `Sentence number ${i}.` })).join('\n'))
    const whole = await load(path)
    const split = await load(path, { evalFraction: 0.25 })
    const all = [...split.train, ...split.eval]
    expect(all).toEqual(whole.train)
    expect(split.train).toHaveLength(Math.floor(all.length * 0.75))
    expect(split.eval.length).toBeGreaterThan(0)
    expect(Math.floor(all.length * (1 - split.evalSplit))).toBe(split.train.length)
    // Again for the same file: the split is the same.
    expect(await load(path, { evalFraction: 0.25 })).toEqual(split)
    // One window and an eval share: none left to train.
    const refused = await refusal(load(file('one.txt', 'Tiny.'), { evalFraction: 0.5 }))
    expect(refused.message).toContain('leaves none to train on')
  })

  test('TrainingRun takes the windows (of its contextSize + 1) and evaluates the eval split', async () => {
    const run = new TrainingRun({ libDir, modelPath, threads: 1, contextSize: 256, targets: ['output.weight'] })
    try {
      const path = file('run.txt', 'Quick fox.\n'.repeat(80))
      const dataset = await load(path, { window: 256, evalFraction: 0.3, tokenize: (text) => run.tokenize(text), eos: undefined })
      const windows = Math.ceil((dataset.tokens - 1) / 256)
      expect(windows).toBeGreaterThanOrEqual(4)
      expect(dataset.train).toHaveLength(Math.floor(windows * 0.7))
      expect(dataset.eval).toHaveLength(windows - dataset.train.length)
      run.dataset([...dataset.train, ...dataset.eval])
      const result = run.epoch({ learningRate: 1e-3, evalSplit: dataset.evalSplit })
      expect(result.trainSteps).toBe(dataset.train.length)
      expect(Number.isFinite(result.evalLoss)).toBe(true)
    } finally {
      run.dispose()
    }
  })

  test('a path outside the allowed folders, or a link out of one, is refused naming datasetPath', async () => {
    const away = file('away.txt', 'Outside text.', outside)
    expect((await refusal(load(away))).message).toContain('not inside an allowed data folder')
    expect((await refusal(load(join(data, '..', 'outside', 'away.txt')))).message).toContain('not inside')
    const link = join(data, 'link.txt')
    symlinkSync(away, link)
    expect((await refusal(load(link))).message).toContain('not inside')
    // A link to the folder from elsewhere is fine: the real path is what counts.
    const folderLink = join(outside, 'data-link')
    symlinkSync(data, folderLink)
    expect((await load(file('inside.txt', 'Inside text.'), { allowedDirs: [folderLink] })).examples).toBe(1)
    expect((await refusal(load(join(data, 'missing.jsonl')))).message).toContain('does not exist')
    mkdirSync(join(data, 'folder'))
    expect((await refusal(load(join(data, 'folder')))).message).toContain('not a file')
  })

  test('a malformed record is named by its line (JSONL) or index (JSON array)', async () => {
    const good = JSON.stringify({ text: 'fine' })
    const wrongShape = await refusal(load(file('shape.jsonl', [good, good, JSON.stringify({ content: 'x' })].join('\n'))))
    expect(wrongShape.line).toBe(3)
    expect(wrongShape.message).toStartWith('line 3: expected "text", "prompt"+"completion" or "messages"')
    const badJson = await refusal(load(file('json.jsonl', [good, '{"text": "oops"', good].join('\n'))))
    expect(badJson.line).toBe(2)
    expect(badJson.message).toStartWith('line 2: invalid JSON')
    const mixed = await refusal(load(file('mixed.jsonl', JSON.stringify({ text: 'a', prompt: 'b', completion: 'c' }))))
    expect(mixed.line).toBe(1)
    const inArray = await refusal(load(file('array.json', JSON.stringify([{ text: 'a' }, { prompt: 'no completion' }]))))
    expect(inArray.index).toBe(1)
    expect(inArray.line).toBeUndefined()
    expect(inArray.message).toStartWith('[1]: expected')
    const notArray = await refusal(load(file('object.json', JSON.stringify({ text: 'a' }))))
    expect(notArray.message).toContain('must be an array')
    const noAssistant = await refusal(load(file('user.jsonl', JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }))))
    expect(noAssistant.message).toBe('line 1: "messages" has no assistant turn to learn')
    const chat = file('chat-only.jsonl', JSON.stringify({ messages: [{ role: 'assistant', content: 'Hi' }] }))
    expect((await refusal(load(chat, { renderChat: undefined }))).message).toContain('need a chat template')
    const raising = () => {
      throw new Error('Conversation roles must alternate')
    }
    expect((await refusal(load(chat, { renderChat: raising }))).message).toBe('line 1: the chat template refuses these messages: Conversation roles must alternate')
    expect((await refusal(load(file('empty.txt', ' \n')))).message).toContain('empty')
  })

  test('a file over the size limit, or with more examples than allowed, is refused', async () => {
    const path = file('big.jsonl', Array.from({ length: 5 }, () => JSON.stringify({ text: 'some text' })).join('\n'))
    expect((await refusal(load(path, { maxBytes: 20 }))).message).toMatch(/is \d+ bytes, more than the 20 allowed/)
    expect((await refusal(load(path, { maxExamples: 4 }))).message).toContain('more than 4 examples')
    expect((await load(path, { maxExamples: 5 })).examples).toBe(5)
  })
})
