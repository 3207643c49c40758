import { describe, expect, test } from 'bun:test'
import { truncatedSvd } from '../../packages/adapter-llama/src/training/truncated-svd.ts'
import { seededRandom } from '../fixtures/seeded-random.ts'

/** Q of a random rows×cols matrix (Gram–Schmidt): orthonormal columns, row-major. */
function randomOrthonormal(rows: number, cols: number, seed: number): Float64Array {
  const next = seededRandom(seed)
  const q = Float64Array.from({ length: rows * cols }, () => next() * 2 - 1)
  for (let c = 0; c < cols; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0
      for (let r = 0; r < rows; r++) dot += q[r * cols + p]! * q[r * cols + c]!
      for (let r = 0; r < rows; r++) q[r * cols + c] = q[r * cols + c]! - dot * q[r * cols + p]!
    }
    let norm = 0
    for (let r = 0; r < rows; r++) norm += q[r * cols + c]! ** 2
    for (let r = 0; r < rows; r++) q[r * cols + c] = q[r * cols + c]! / Math.sqrt(norm)
  }
  return q
}

/** U·diag(S)·Vᵀ for U m×k, V n×k. */
function compose(u: Float64Array, s: ArrayLike<number>, v: Float64Array, m: number, n: number, k: number): Float64Array {
  const out = new Float64Array(m * n)
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let sum = 0
    for (let c = 0; c < k; c++) sum += u[i * k + c]! * s[c]! * v[j * k + c]!
    out[i * n + j] = sum
  }
  return out
}

describe('truncatedSvd', () => {
  const m = 60
  const n = 45
  // Full rank, decaying: the leading values are well separated from the tail the sketch must see past.
  const sigma = Array.from({ length: n }, (_, i) => 20 * 0.6 ** i)
  const u = randomOrthonormal(m, n, 1)
  const v = randomOrthonormal(n, n, 2)
  const matrix = compose(u, sigma, v, m, n, n)

  test('finds the known leading singular values and vectors of a full-rank matrix', () => {
    const svd = truncatedSvd(matrix, m, n, 5)
    for (let c = 0; c < 5; c++) expect(Math.abs(svd.s[c]! - sigma[c]!) / sigma[c]!).toBeLessThan(1e-9)
    // Each found vector is ± the true one: |⟨u_found, u_true⟩| = 1.
    for (let c = 0; c < 5; c++) {
      let dotU = 0
      let dotV = 0
      for (let i = 0; i < m; i++) dotU += svd.u[i * 5 + c]! * u[i * n + c]!
      for (let j = 0; j < n; j++) dotV += svd.v[j * 5 + c]! * v[j * n + c]!
      expect(Math.abs(Math.abs(dotU) - 1)).toBeLessThan(1e-8)
      expect(Math.abs(Math.abs(dotV) - 1)).toBeLessThan(1e-8)
    }
  })

  test('reconstructs a matrix of exactly its rank, and is deterministic', () => {
    const exact = compose(u, sigma.map((value, i) => (i < 4 ? value : 0)), v, m, n, n)
    const svd = truncatedSvd(exact, m, n, 4)
    const back = compose(svd.u, svd.s, svd.v, m, n, 4)
    let error = 0
    let norm = 0
    for (let i = 0; i < exact.length; i++) {
      error += (exact[i]! - back[i]!) ** 2
      norm += exact[i]! ** 2
    }
    expect(Math.sqrt(error / norm)).toBeLessThan(1e-12)
    expect(truncatedSvd(exact, m, n, 4).u).toEqual(svd.u)
  })

  test('refuses a rank past the matrix and values that do not fit its shape', () => {
    expect(() => truncatedSvd(matrix, m, n, n + 1)).toThrow(/rank 46 must be an integer from 1 to 45/)
    expect(() => truncatedSvd(matrix, m, n, 0)).toThrow(RangeError)
    expect(() => truncatedSvd(matrix, m + 1, n, 2)).toThrow(/needs 2745 values/)
  })
})
