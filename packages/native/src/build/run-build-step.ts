import { buildProgress } from './build-progress.ts'

export interface BuildStepOptions {
  /** What is being built, for the progress lines ("whisper.cpp"). */
  label: string
  log: (line: string) => void
  onPercent?: (percent: number) => void
}

/**
 * Runs a build step (cmake); its progress ("[ 40%]" lines, every tenth) goes to the log, so a long build
 * is seen moving. A failure throws with the output's last lines.
 */
export async function runBuildStep(command: string[], { label, log, onPercent }: BuildStepOptions): Promise<void> {
  log(`$ ${command.join(' ')}`)
  const child = Bun.spawn(command, { stdout: 'pipe', stderr: 'pipe' })
  let stdout = ''
  let shown = -1
  const reading = (async () => {
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream()) as unknown as AsyncIterable<string>) {
      stdout += text
      const percent = buildProgress(text)
      if (percent === undefined) continue
      onPercent?.(percent)
      if (Math.floor(percent / 10) > shown) {
        shown = Math.floor(percent / 10)
        log(`building ${label}: ${percent}%`)
      }
    }
  })()
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text(), reading])
  if (code !== 0) throw new Error(`${command[0]} failed (${code}):\n${(stdout + stderr).trim().split('\n').slice(-15).join('\n')}`)
}
