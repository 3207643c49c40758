import { TokensFileError } from './tokens-file-error.ts'

/**
 * Parses sherpa-onnx's tokens.txt into pieces indexed by id, by its ReadTokens rules (symbol-table.cc): each line
 * is `piece id` split on whitespace; a line holding only an id is the piece " " (a whitespace piece cannot be
 * written otherwise); blank lines are skipped. Ids must be unique non-negative integers; gaps stay undefined.
 */
export function readTokens(text: string): Array<string | undefined> {
  const pieces: Array<string | undefined> = []
  const lines = text.split('\n')
  for (let n = 0; n < lines.length; n++) {
    const fields = lines[n]!.trim().split(/\s+/).filter((field) => field !== '')
    if (fields.length === 0) continue
    if (fields.length > 2) throw new TokensFileError(`expected "piece id", got ${JSON.stringify(lines[n])}`, n + 1)
    const [piece, idText] = fields.length === 1 ? [' ', fields[0]!] : [fields[0]!, fields[1]!]
    if (!/^\d+$/.test(idText)) throw new TokensFileError(`id ${JSON.stringify(idText)} is not a non-negative integer`, n + 1)
    const id = Number(idText)
    if (pieces[id] !== undefined) throw new TokensFileError(`id ${id} appears twice`, n + 1)
    pieces[id] = piece
  }
  return pieces
}
