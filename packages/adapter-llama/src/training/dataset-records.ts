import { TrainingDatasetError, type DatasetLocation } from './training-dataset-error.ts'

/** A chat turn of a `{"messages"}` record, as a chat template reads it. */
export interface DatasetMessage {
  role: string
  content: string
}

/** One training example, as the file gave it. */
export type DatasetRecord = { text: string } | { prompt: string; completion: string } | { messages: DatasetMessage[] }

/** A record and where the file has it. */
export interface LocatedRecord {
  record: DatasetRecord
  at: DatasetLocation
}

export type DatasetFormat = 'jsonl' | 'json' | 'text'

const SHAPES = `expected "text", "prompt"+"completion" or "messages"`

/** JSONL for `.jsonl`/`.ndjson`, a JSON array for `.json`, plain text (the whole file one example) otherwise. */
export function datasetFormat(path: string): DatasetFormat {
  const lower = path.toLowerCase()
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl'
  if (lower.endsWith('.json')) return 'json'
  return 'text'
}

/** The records of a dataset file's text, refused at the first malformed one (named by line or index). */
export function parseDatasetRecords(text: string, format: DatasetFormat, maxExamples: number): LocatedRecord[] {
  const records: LocatedRecord[] = []
  const add = (record: DatasetRecord, at: DatasetLocation = {}) => {
    if (records.length >= maxExamples) throw new TrainingDatasetError(`the dataset has more than ${maxExamples} examples, the most one training job takes`)
    records.push({ record, at })
  }
  if (format === 'text') {
    if (!text.trim()) throw new TrainingDatasetError('the dataset file is empty')
    add({ text })
    return records
  }
  if (format === 'jsonl') {
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim()
      const at = { line: i + 1 }
      // Blank lines (a trailing newline, a gap) hold no record.
      if (line) add(datasetRecord(parseJson(line, at), at), at)
    })
  } else {
    const items = parseJson(text, {})
    if (!Array.isArray(items)) throw new TrainingDatasetError(`a .json dataset must be an array of records (${SHAPES}); use .jsonl for one record per line`)
    items.forEach((item, index) => add(datasetRecord(item, { index }), { index }))
  }
  if (!records.length) throw new TrainingDatasetError('the dataset has no records')
  return records
}

function parseJson(text: string, at: DatasetLocation): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new TrainingDatasetError(`invalid JSON (${(error as Error).message})`, at)
  }
}

/** One record checked against the three shapes; unknown or mixed keys are refused, not ignored. */
function datasetRecord(value: unknown, at: DatasetLocation): DatasetRecord {
  const fail = (why: string): never => {
    throw new TrainingDatasetError(why, at)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(`${SHAPES}, not ${JSON.stringify(value)?.slice(0, 40)}`)
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).sort().join(',')
  const text = (key: string) => {
    const field = record[key]
    if (typeof field !== 'string') return fail(`"${key}" must be a string`)
    if (!field) return fail(`"${key}" is empty`)
    return field
  }
  if (keys === 'text') return { text: text('text') }
  if (keys === 'completion,prompt') return { prompt: text('prompt'), completion: text('completion') }
  if (keys !== 'messages') return fail(`${SHAPES}, and nothing else (found ${JSON.stringify(Object.keys(record))})`)
  const messages = record.messages
  if (!Array.isArray(messages) || !messages.length) return fail('"messages" must be a non-empty array')
  const turns = messages.map((message, i): DatasetMessage => {
    const turn = message as Record<string, unknown> | null
    const plain = typeof turn === 'object' && turn !== null && Object.keys(turn).every((key) => key === 'role' || key === 'content')
    if (!plain || typeof turn.role !== 'string' || typeof turn.content !== 'string') {
      return fail(`messages[${i}] must be {"role", "content"} with string values, and nothing else`)
    }
    return { role: turn.role, content: turn.content }
  })
  if (!turns.some((turn) => turn.role === 'assistant')) fail('"messages" has no assistant turn to learn')
  return { messages: turns }
}
