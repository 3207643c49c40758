import pino, { type LevelWithSilent, type Logger } from 'pino'
import { textLines } from './text-log-lines.ts'

export type { Logger }
export type LogLevel = LevelWithSilent

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export interface LoggerOptions {
  /** The lowest level written (default `info`; `silent` for none). */
  level?: LogLevel
  /** Where lines go (default stdout). */
  destination?: { write(line: string): unknown }
  /** `text` for people, `json` for collectors (default: text on a terminal, JSON otherwise). */
  format?: 'json' | 'text'
}

/** The server's one logger (pino): JSON lines, or text lines on a terminal. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination(1)
  const tty = options.destination === undefined && process.stdout.isTTY === true
  const text = options.format ? options.format === 'text' : tty
  // No pid and hostname on every line: one process writes them, and its supervisor knows which.
  return pino({ level: options.level ?? 'info', base: undefined }, text ? textLines(destination) : (destination as pino.DestinationStream))
}
