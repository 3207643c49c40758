import { rmSync } from 'node:fs'
import { stamp, type EpochStamps } from './epoch-times.ts'
import { LEARNING_RATE, type TrainingCase } from './ours.ts'

// ggml_opt_epoch_callback_progress_bar's line, written (and flushed) after each window: "train: [...] data=0000003/0000016 loss=2.1±0.1"
// (the loss is the epoch's mean so far).
const PROGRESS = /train: \[[^\]]*\] data=(\d+)\/(\d+) loss=([\d.]+)/g

/**
 * llama.cpp's side: llama-finetune on the same text file, context, threads and epochs. Each window's end
 * is when its progress line reaches our end of the pipe (stderr is unbuffered there, and this process
 * does nothing else meanwhile), so both sides are timed at the same point of llama_opt_epoch's loop; its
 * CPU time is read from /proc then.
 */
export async function theirsStamps(binary: string, textPath: string, outPath: string, { modelPath, context, threads, epochs }: Omit<TrainingCase, 'text'>): Promise<{ stamps: EpochStamps; losses: number[]; windows: number }> {
  const command = [binary, '-m', modelPath, '-f', textPath, '-c', String(context), '-b', String(context), '-ub', String(context)]
  command.push('-t', String(threads), '-tb', String(threads), '-ngl', '0', '-fa', 'off', '-epochs', String(epochs), '-val-split', '0', '-lr', String(LEARNING_RATE), '-o', outPath)
  const child = Bun.spawn(command, { stdout: 'ignore', stderr: 'pipe' })
  const stamps: EpochStamps = [[]]
  const losses: number[] = []
  let windows = 0
  let tail = ''
  let log = ''
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream()) as unknown as AsyncIterable<string>) {
    const now = stamp(child.pid)
    log = (log + chunk).slice(-4000)
    tail += chunk
    let last = 0
    for (const match of tail.matchAll(PROGRESS)) {
      const [step, steps] = [Number(match[1]), Number(match[2])]
      windows = steps
      stamps.at(-1)!.push(now)
      if (step === steps) {
        stamps.push([])
        losses.push(Number(match[3]))
      }
      last = match.index! + match[0].length
    }
    tail = tail.slice(last)
  }
  const code = await child.exited
  rmSync(outPath, { force: true })
  stamps.pop()
  if (code !== 0 || stamps.length !== epochs) throw new Error(`llama-finetune exited with ${code} after ${stamps.length} of ${epochs} epochs:\n${log}`)
  return { stamps, losses, windows }
}
