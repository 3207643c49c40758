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
  readonly line?: number
  readonly index?: number

  /** `message` is prefixed with the record's place: `line 3: …` or `[2]: …`. */
  constructor(message: string, at: DatasetLocation = {}) {
    super(`${at.line !== undefined ? `line ${at.line}: ` : at.index !== undefined ? `[${at.index}]: ` : ''}${message}`, { param: 'datasetPath', code: 'invalid_dataset' })
    if (at.line !== undefined) this.line = at.line
    if (at.index !== undefined) this.index = at.index
  }
}
