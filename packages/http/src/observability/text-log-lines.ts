import type { DestinationStream } from 'pino'

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }

/** `key=value`, quoting values with spaces or quotes so a line stays one line and splittable. */
function field(key: string, value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return `${key}=${/[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text}`
}

/** One pino JSON line as a terminal line: time, level, message, then the fields as `key=value`. */
export function textLine(json: string): string {
  const { time, level, msg, ...fields } = JSON.parse(json) as Record<string, unknown>
  const clock = new Date(typeof time === 'number' ? time : Date.now()).toISOString().slice(11, 23)
  const parts = [clock, (LEVELS[level as number] ?? String(level)).padEnd(5), msg ?? '']
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) parts.push(field(key, value))
  return `${parts.join(' ')}\n`
}

/** A destination that writes pino's lines as text: for a terminal, where people read them. */
export function textLines(destination: { write(line: string): unknown }): DestinationStream {
  return { write: (line: string) => void destination.write(textLine(line)) }
}
