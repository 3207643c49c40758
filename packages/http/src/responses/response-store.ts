import { Database } from 'bun:sqlite'
import type { ItemResource } from './response-items.ts'

export interface StoredResponse {
  response: Record<string, unknown>
  inputItems: ItemResource[]
  /** Every item of the conversation up to and including this response's output, for `previous_response_id`. */
  conversation: ItemResource[]
}

/**
 * Stored responses in an embedded SQLite database (a file, so they outlive a restart; `:memory:` by
 * default, for tests and throwaway servers).
 */
export class ResponseStore {
  readonly #db: Database
  readonly #insert
  readonly #select
  readonly #delete

  constructor(readonly path = ':memory:') {
    this.#db = new Database(path, { create: true })
    if (path !== ':memory:') this.#db.exec('PRAGMA journal_mode = WAL')
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS responses (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, response TEXT NOT NULL, input_items TEXT NOT NULL, conversation TEXT NOT NULL)',
    )
    this.#insert = this.#db.prepare('INSERT OR REPLACE INTO responses (id, created_at, response, input_items, conversation) VALUES (?, ?, ?, ?, ?)')
    this.#select = this.#db.prepare<{ response: string; input_items: string; conversation: string }, [string]>('SELECT response, input_items, conversation FROM responses WHERE id = ?')
    this.#delete = this.#db.prepare('DELETE FROM responses WHERE id = ?')
  }

  save(stored: StoredResponse): void {
    const { response } = stored
    this.#insert.run(String(response.id), Number(response.created_at), JSON.stringify(response), JSON.stringify(stored.inputItems), JSON.stringify(stored.conversation))
  }

  get(id: string): StoredResponse | undefined {
    const row = this.#select.get(id)
    if (!row) return undefined
    return { response: JSON.parse(row.response), inputItems: JSON.parse(row.input_items), conversation: JSON.parse(row.conversation) }
  }

  delete(id: string): boolean {
    return this.#delete.run(id).changes > 0
  }

  close(): void {
    this.#db.close()
  }
}
