import { Database } from 'bun:sqlite'
import { randomUUID } from 'node:crypto'
import type { TrainingJob, TrainingJobStatus, TrainingProgress, TrainingRequest, TrainingResult } from '@cy/core'

/**
 * Why a job found `running` (or `paused`) when the store opens is failed, not resumed: its checkpoint holds the
 * weights but not AdamW's moments (llama.cpp cannot save the optimizer state), so it would not be the same run.
 */
export const STOPPED_WHILE_RUNNING = 'the server stopped while it ran'

export interface JobListOptions {
  status?: TrainingJobStatus
  limit?: number
  offset?: number
}

export interface JobPatch {
  status?: TrainingJobStatus
  progress?: TrainingProgress | null
  result?: TrainingResult | null
  error?: string | null
  warnings?: string[]
  startedAt?: string | null
  finishedAt?: string | null
}

interface JobRow {
  id: string
  status: TrainingJobStatus
  request: string
  progress: string | null
  result: string | null
  error: string | null
  warnings: string
  created_at: string
  started_at: string | null
  finished_at: string | null
}

const COLUMNS: Record<keyof JobPatch, string> = {
  status: 'status',
  progress: 'progress',
  result: 'result',
  error: 'error',
  warnings: 'warnings',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
}
const JSON_FIELDS = new Set<keyof JobPatch>(['progress', 'result', 'warnings'])

/**
 * Training jobs in one SQLite file (WAL), so they outlive the server. One server owns a file (a second one
 * opening it while the first runs is refused): on open, every job still `running` belonged to a process
 * that died, and becomes `failed` (STOPPED_WHILE_RUNNING says why not resumed). `:memory:` keeps them in memory.
 */
export class JobStore {
  readonly #db: Database
  #seq = 0

  constructor(path: string) {
    this.#db = new Database(path, { create: true, strict: true })
    this.#db.run('PRAGMA journal_mode = WAL')
    this.#db.run(`CREATE TABLE IF NOT EXISTS training_jobs (
      id TEXT PRIMARY KEY, status TEXT NOT NULL, request TEXT NOT NULL, progress TEXT, result TEXT, error TEXT,
      warnings TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, seq INTEGER NOT NULL)`)
    this.#db.run('CREATE INDEX IF NOT EXISTS training_jobs_status ON training_jobs (status, seq)')
    this.#seq =
      (
        this.#db.query('SELECT MAX(seq) AS seq FROM training_jobs').get() as {
          seq: number | null
        }
      ).seq ?? 0
    // One server owns a file: a second would fail the first's running jobs as "stopped".
    this.#db.run('CREATE TABLE IF NOT EXISTS store_owner (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL)')
    const claim = this.#db.transaction(() => {
      const owner = this.#db.query('SELECT pid FROM store_owner WHERE id = 1').get() as { pid: number } | null
      if (owner && owner.pid !== process.pid && isAlive(owner.pid)) return owner.pid
      this.#db.query('INSERT OR REPLACE INTO store_owner (id, pid) VALUES (1, ?)').run(process.pid)
      this.#db.query("UPDATE training_jobs SET status = 'failed', error = ?, finished_at = ? WHERE status IN ('running', 'paused')").run(STOPPED_WHILE_RUNNING, new Date().toISOString())
      return undefined
    })
    const other = claim.immediate()
    if (other !== undefined) {
      this.#db.close()
      throw new Error(`the training jobs in ${path} belong to another running server (pid ${other}): give this one a training folder of its own`)
    }
  }

  create(request: TrainingRequest, warnings: string[] = []): TrainingJob {
    const job: TrainingJob = {
      id: `train-${randomUUID()}`,
      status: 'queued',
      request,
      progress: null,
      result: null,
      error: null,
      warnings,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
    }
    this.#db
      .query('INSERT INTO training_jobs (id, status, request, warnings, created_at, seq) VALUES (?, ?, ?, ?, ?, ?)')
      .run(job.id, job.status, JSON.stringify(request), JSON.stringify(warnings), job.createdAt, ++this.#seq)
    return job
  }

  get(id: string): TrainingJob | undefined {
    const row = this.#db.query('SELECT * FROM training_jobs WHERE id = ?').get(id) as JobRow | null
    return row ? fromRow(row) : undefined
  }

  update(id: string, patch: JobPatch): TrainingJob | undefined {
    const keys = (Object.keys(patch) as Array<keyof JobPatch>).filter((key) => patch[key] !== undefined)
    if (keys.length) {
      const values = keys.map((key) => (JSON_FIELDS.has(key) && patch[key] !== null ? JSON.stringify(patch[key]) : (patch[key] as string | null)))
      this.#db.query(`UPDATE training_jobs SET ${keys.map((key) => `${COLUMNS[key]} = ?`).join(', ')} WHERE id = ?`).run(...values, id)
    }
    return this.get(id)
  }

  /** Oldest first; `total` counts every job the filter matches. */
  list({ status, limit = 100, offset = 0 }: JobListOptions = {}): {
    jobs: TrainingJob[]
    total: number
  } {
    const where = status ? 'WHERE status = ?' : ''
    const filter = status ? [status] : []
    const rows = this.#db.query(`SELECT * FROM training_jobs ${where} ORDER BY seq LIMIT ? OFFSET ?`).all(...filter, limit, offset) as JobRow[]
    const { total } = this.#db.query(`SELECT COUNT(*) AS total FROM training_jobs ${where}`).get(...filter) as { total: number }
    return { jobs: rows.map(fromRow), total }
  }

  close(): void {
    this.#db.query('DELETE FROM store_owner WHERE pid = ?').run(process.pid)
    this.#db.close()
  }
}

/** Whether a process of this id runs (signal 0 checks without sending; EPERM: it runs as another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function fromRow(row: JobRow): TrainingJob {
  return {
    id: row.id,
    status: row.status,
    request: JSON.parse(row.request),
    progress: row.progress ? JSON.parse(row.progress) : null,
    result: row.result ? JSON.parse(row.result) : null,
    error: row.error,
    warnings: JSON.parse(row.warnings),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  }
}
