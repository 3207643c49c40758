import { TrainingDatasetError } from '../training-dataset-error.ts'

export interface DatasetCheck {
  path: string
  allowedDirs: readonly string[]
  maxBytes?: number
  maxExamples?: number
}

/** `message`: the error's reason, without its place (line, index), which the error adds again. */
export type DatasetCheckAnswer = { examples: number } | { message: string; line?: number; index?: number }

const WORKER = new URL('./dataset-check-worker.ts', import.meta.url)

/**
 * A request's dataset file checked off the event loop (a Worker of its own, ended after): inside the
 * allowed folders, within the size, every record well formed. Resolves with the number of examples, or
 * rejects with the TrainingDatasetError (a 400 naming `datasetPath` and the line) the file deserves.
 */
export function checkDataset(check: DatasetCheck): Promise<number> {
  const worker = new Worker(WORKER)
  return new Promise<number>((resolve, reject) => {
    worker.onmessage = ({ data }: MessageEvent<DatasetCheckAnswer>) => {
      if ('examples' in data) resolve(data.examples)
      else reject(new TrainingDatasetError(data.message, data))
    }
    worker.onerror = (event) => reject(new TrainingDatasetError(`the dataset cannot be checked: ${event.message}`))
    worker.postMessage(check)
  }).finally(() => worker.terminate())
}
