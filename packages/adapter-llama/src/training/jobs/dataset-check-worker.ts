// A Worker that reads and parses a request's dataset file (JSON.parse of up to 256 MiB is not for the
// serving event loop): it answers the records' count, or the TrainingDatasetError's reason and place.
import { readDatasetRecords } from '../training-dataset.ts'
import { TrainingDatasetError } from '../training-dataset-error.ts'
import type { DatasetCheck, DatasetCheckAnswer } from './dataset-check.ts'

declare const self: Worker

self.onmessage = async ({ data }: MessageEvent<DatasetCheck>) => {
  let answer: DatasetCheckAnswer
  try {
    answer = { examples: (await readDatasetRecords(data.path, data.allowedDirs, data.maxBytes, data.maxExamples)).length }
  } catch (error) {
    answer =
      error instanceof TrainingDatasetError
        ? { message: error.reason, ...error.location }
        : { message: `the dataset cannot be read: ${(error as Error).message}` }
  }
  self.postMessage(answer)
}
