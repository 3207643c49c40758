import { BadRequestError } from '@cy/core'

/** Where in a dataset file a record failed: its 1-based line (JSONL) or 0-based index (JSON array). */
export interface DatasetLocation {
  line?: number
  index?: number
}

/**
 * A training dataset that cannot be used (a 400 `invalid_dataset` on `datasetPath`): a path outside the
 * allowed folders, a file too large, or a malformed record. `field` names the request field to blame,
 * `line` or `index` the record.
 */
export class TrainingDatasetError extends BadRequestError {
  readonly field = 'datasetPath'
  // Assigned even when undefined: Bun sets its own `line` (the source line) on every Error.
  readonly line: number | undefined
  readonly index: number | undefined
  /** Where in the file (the engine API's error details carry it). */
  readonly location: DatasetLocation
  /** The message without its place. */
  readonly reason: string

  /** `message` is prefixed with the record's place: `line 3: …` or `[2]: …`. */
  constructor(message: string, at: DatasetLocation = {}) {
    super(`${at.line !== undefined ? `line ${at.line}: ` : at.index !== undefined ? `[${at.index}]: ` : ''}${message}`, { param: 'datasetPath', code: 'invalid_dataset' })
    this.reason = message
    this.line = at.line
    this.index = at.index
    this.location = { ...(at.line !== undefined ? { line: at.line } : {}), ...(at.index !== undefined ? { index: at.index } : {}) }
  }
}
