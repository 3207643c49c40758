import { Database } from 'bun:sqlite'
import type { ItemResource } from './response-items.ts'

export interface StoredResponse {
  /** Who made it: a digest of the API key ('' without keys). Only the owner sees it. */
  owner: string
  /** The response it continues (`previous_response_id`), or null. */
  parentId: string | null
  response: Record<string, unknown>
  /** This turn's own input items; earlier turns are reached through the parent. */
  inputItems: ItemResource[]
}

export interface ResponseStoreOptions {
  /** Days a response is kept after its conversation's last turn (default 30, as OpenAI). */
  retentionDays?: number
  /** The clock, in ms (tests). */
  now?: () => number
}

const DAY_MS = 86_400_000
const SCHEMA_VERSION = 2
/** Expired rows are swept at most this often, on a save. */
const SWEEP_EVERY_MS = 60_000

const CREATE = `CREATE TABLE responses (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  parent_id TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  response TEXT NOT NULL,
  input_items TEXT NOT NULL
);
CREATE INDEX responses_expiry ON responses (expires_at)`

// The response and its ancestors, oldest first; a missing (deleted or expired) ancestor ends the chain.
const CHAIN = `WITH RECURSIVE chain (id, parent_id, depth, response, input_items) AS (
  SELECT id, parent_id, 0, response, input_items FROM responses WHERE id = ?1 AND owner = ?2 AND expires_at > ?3
  UNION ALL
  SELECT r.id, r.parent_id, c.depth + 1, r.response, r.input_items FROM responses r JOIN chain c ON r.id = c.parent_id
  WHERE r.owner = ?2 AND r.expires_at > ?3
) SELECT response, input_items FROM chain ORDER BY depth DESC`

// A new turn keeps its whole conversation for another retention period. An ancestor never expires before
// its descendants, so the live ones are all that is left to extend.
const EXTEND_CHAIN = `WITH RECURSIVE chain (id) AS (
  SELECT ?1 UNION ALL SELECT r.parent_id FROM responses r JOIN chain c ON r.id = c.id WHERE r.parent_id IS NOT NULL
) UPDATE responses SET expires_at = MAX(expires_at, ?2) WHERE id IN (SELECT id FROM chain) AND expires_at > ?3`

type Row = { response: string; input_items: string }

/**
 * Stored responses in an embedded SQLite database (a file, so they outlive a restart; `:memory:` by
 * default, for tests and throwaway servers). Each row holds one turn, its owner, and a link to the turn
 * it continues, so storage grows with the turns, not their square; rows expire after the retention
 * period.
 *
 * Schema 2 (`PRAGMA user_version`). A database of schema 1 (one row per response with the whole
 * conversation copied in) is migrated when opened: each row keeps its turn, gets its parent from its
 * `previous_response_id`, belongs to the keyless owner '' (schema 1 had no owners: with API keys
 * configured no key sees those rows) and expires a retention period after its creation.
 */
export class ResponseStore {
  readonly #db: Database
  readonly #retentionMs: number
  readonly #now: () => number
  readonly #insert
  readonly #select
  readonly #chain
  readonly #extend
  readonly #delete
  readonly #sweep
  #sweptAt = 0

  constructor(
    readonly path = ':memory:',
    options: ResponseStoreOptions = {},
  ) {
    const days = options.retentionDays ?? 30
    if (!(days > 0)) throw new RangeError('responsesRetentionDays must be a positive number of days')
    this.#retentionMs = days * DAY_MS
    this.#now = options.now ?? Date.now
    this.#db = new Database(path, { create: true })
    if (path !== ':memory:') this.#db.exec('PRAGMA journal_mode = WAL')
    this.#migrate()
    this.#insert = this.#db.prepare('INSERT INTO responses (id, owner, parent_id, created_at, expires_at, response, input_items) VALUES (?, ?, ?, ?, ?, ?, ?)')
    this.#select = this.#db.prepare<Row & { parent_id: string | null }, [string, string, number]>(
      'SELECT parent_id, response, input_items FROM responses WHERE id = ? AND owner = ? AND expires_at > ?',
    )
    this.#chain = this.#db.prepare<Row, [string, string, number]>(CHAIN)
    this.#extend = this.#db.prepare(EXTEND_CHAIN)
    this.#delete = this.#db.prepare('DELETE FROM responses WHERE id = ? AND owner = ?')
    this.#sweep = this.#db.prepare('DELETE FROM responses WHERE expires_at <= ?')
    this.#sweep.run(this.#now())
  }

  save(stored: StoredResponse): void {
    const { response } = stored
    const now = this.#now()
    const expiresAt = now + this.#retentionMs
    this.#db.transaction(() => {
      this.#insert.run(String(response.id), stored.owner, stored.parentId, Number(response.created_at), expiresAt, JSON.stringify(response), JSON.stringify(stored.inputItems))
      if (stored.parentId) this.#extend.run(stored.parentId, expiresAt, now)
    })()
    if (now - this.#sweptAt >= SWEEP_EVERY_MS) {
      this.#sweptAt = now
      this.#sweep.run(now)
    }
  }

  /** The owner's response, unless it expired. */
  get(id: string, owner: string): StoredResponse | undefined {
    const row = this.#select.get(id, owner, this.#now())
    if (!row) return undefined
    return { owner, parentId: row.parent_id, response: JSON.parse(row.response), inputItems: JSON.parse(row.input_items) }
  }

  /** Every item of the conversation up to and including this response's output, for `previous_response_id`. */
  conversation(id: string, owner: string): ItemResource[] | undefined {
    const rows = this.#chain.all(id, owner, this.#now())
    if (rows.length === 0) return undefined
    const items: ItemResource[] = []
    for (const row of rows) items.push(...(JSON.parse(row.input_items) as ItemResource[]), ...((JSON.parse(row.response) as { output?: ItemResource[] }).output ?? []))
    return items
  }

  delete(id: string, owner: string): boolean {
    return this.#delete.run(id, owner).changes > 0
  }

  close(): void {
    this.#db.close()
  }

  #migrate(): void {
    const db = this.#db
    const version = db.query<{ user_version: number }, []>('PRAGMA user_version').get()!.user_version
    if (version >= SCHEMA_VERSION) return
    const hasV1 = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'responses'").get() !== null
    db.transaction(() => {
      if (hasV1) db.exec('ALTER TABLE responses RENAME TO responses_v1')
      db.exec(CREATE)
      if (hasV1) {
        db.prepare(
          `INSERT INTO responses (id, owner, parent_id, created_at, expires_at, response, input_items)
           SELECT id, '', json_extract(response, '$.previous_response_id'), created_at, created_at * 1000 + ?, response, input_items FROM responses_v1`,
        ).run(this.#retentionMs)
        db.exec('DROP TABLE responses_v1')
      }
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
    })()
  }
}
