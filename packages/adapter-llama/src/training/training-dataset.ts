import { readFile, stat } from 'node:fs/promises'
import { resolveDatasetPath } from './dataset-path.ts'
import { datasetFormat, parseDatasetRecords, type DatasetMessage, type LocatedRecord } from './dataset-records.ts'
import { TrainingDatasetError } from './training-dataset-error.ts'
import { packWindows } from './training-windows.ts'

export const DEFAULT_MAX_DATASET_BYTES = 256 * 1024 * 1024
export const DEFAULT_MAX_DATASET_EXAMPLES = 1_000_000

export interface TrainingDatasetOptions {
  path: string
  /** Folders a dataset may be in; the path and the folders are compared with their symlinks resolved. */
  allowedDirs: readonly string[]
  /**
   * The model's tokens for one example's whole text, with the model's own specials (its BOS) as
   * llama_tokenize's add_special gives them; `special`: the text is a chat template's rendering, so its
   * special-token markup (`<|im_start|>`) is parsed as those tokens, as inference reads it.
   */
  tokenize: (text: string, special: boolean) => Int32Array
  /** The model's chat template over a `{"messages"}` record, without a generation prompt; needed for those. */
  renderChat?: (messages: DatasetMessage[]) => string
  /** The training window (TrainingRun's contextSize): each window holds `window + 1` tokens. */
  window: number
  /** The fraction of the windows (the last ones) held out for evaluation: [0, 1), default 0. */
  evalFraction?: number
  /** The end-of-sequence token appended after each example (unless the tokenizer already ended it so). */
  eos?: number
  maxBytes?: number
  maxExamples?: number
}

export interface TrainingDataset {
  /** Windows of `window + 1` tokens, for TrainingRun.dataset (train first, then eval, with evalSplit). */
  train: Int32Array[]
  eval: Int32Array[]
  /** TrainingRun.epoch's evalSplit over `[...train, ...eval]` that evaluates exactly the `eval` windows. */
  evalSplit: number
  examples: number
  /** Tokens in the packed stream, separators included. */
  tokens: number
  warnings: string[]
}

// Why the loss is not limited to completions and assistant turns:
// llama_opt_epoch builds each label row itself, a one-hot at the label token id (no id is skipped; -1
// writes outside the row), and ggml's cross-entropy gradient is softmax − label over every row.
const UNMASKED =
  "llama.cpp's optimizer cannot mask labels (llama_opt_epoch makes a one-hot label for every token), so the loss covers every token of each window: prompts, system and user turns and template markup as well as the completions and assistant turns"

/**
 * A dataset file read, checked, tokenized and packed into TrainingRun windows. The file must be inside
 * `allowedDirs`; JSONL or a JSON array of `{"text"}`, `{"prompt","completion"}` or `{"messages"}`
 * records, or plain text (any other extension: the whole file one example). Tokenizing is synchronous:
 * call it in the training process, not on a server's event loop.
 */
export async function loadTrainingDataset(options: TrainingDatasetOptions): Promise<TrainingDataset> {
  const { window, evalFraction = 0, maxBytes = DEFAULT_MAX_DATASET_BYTES, maxExamples = DEFAULT_MAX_DATASET_EXAMPLES } = options
  if (!Number.isInteger(window) || window <= 0) throw new RangeError(`window must be a positive integer, not ${window}`)
  if (!(evalFraction >= 0 && evalFraction < 1)) throw new RangeError(`evalFraction must be in [0, 1), not ${evalFraction}`)
  const records = await readDatasetRecords(options.path, options.allowedDirs, maxBytes, maxExamples)

  const parts = records.map((located) => exampleTokens(located, options))
  const length = parts.reduce((sum, part) => sum + part.length, 0)
  if (length < 2) throw new TrainingDatasetError('the dataset tokenizes to fewer than 2 tokens: nothing to learn')
  const stream = new Int32Array(length)
  parts.reduce((at, part) => (stream.set(part, at), at + part.length), 0)

  const windows = packWindows(stream, window)
  const trainCount = Math.floor(windows.length * (1 - evalFraction))
  if (trainCount < 1) {
    throw new TrainingDatasetError(`the dataset makes ${windows.length} window(s) of ${window} tokens, and evalFraction ${evalFraction} leaves none to train on`)
  }
  const warnings: string[] = []
  if (records.some(({ record }) => !('text' in record))) warnings.push(UNMASKED)
  if (length <= window) warnings.push(`the dataset has ${length} tokens, fewer than one window of ${window + 1}: it is repeated to fill the window`)
  const evalCount = windows.length - trainCount
  // Half a window under the share: TrainingRun floors windows × (1 − evalSplit), and no rounding then moves the split.
  const evalSplit = evalCount ? (evalCount - 0.5) / windows.length : 0
  return { train: windows.slice(0, trainCount), eval: windows.slice(trainCount), evalSplit, examples: records.length, tokens: length, warnings }
}

/** A dataset file's records, checked: inside `allowedDirs`, at most `maxBytes`, every record well formed. Parsing is synchronous (a Worker checks a request's). */
export async function readDatasetRecords(requested: string, allowedDirs: readonly string[], maxBytes = DEFAULT_MAX_DATASET_BYTES, maxExamples = DEFAULT_MAX_DATASET_EXAMPLES): Promise<LocatedRecord[]> {
  const path = await resolveDatasetPath(requested, allowedDirs)
  const size = (await stat(path)).size
  if (size > maxBytes) throw new TrainingDatasetError(`the dataset file is ${size} bytes, more than the ${maxBytes} allowed`)
  // The format follows the name the request gave (a link's own extension, not its target's).
  return parseDatasetRecords(await readFile(path, 'utf8'), datasetFormat(requested), maxExamples)
}

function exampleTokens({ record, at }: LocatedRecord, { tokenize, renderChat, eos }: TrainingDatasetOptions): Int32Array {
  let tokens: Int32Array
  if ('text' in record) tokens = tokenize(record.text, false)
  else if ('prompt' in record) tokens = tokenize(record.prompt + record.completion, false)
  else {
    if (!renderChat) throw new TrainingDatasetError('"messages" need a chat template to render them, and none was given (the model has none?)', at)
    let text: string
    try {
      text = renderChat(record.messages)
    } catch (error) {
      // A template's own raise_exception ("roles must alternate") is about this record.
      throw new TrainingDatasetError(`the chat template refuses these messages: ${(error as Error).message}`, at)
    }
    tokens = tokenize(text, true)
  }
  if (eos === undefined || tokens[tokens.length - 1] === eos) return tokens
  const ended = new Int32Array(tokens.length + 1)
  ended.set(tokens)
  ended[tokens.length] = eos
  return ended
}
