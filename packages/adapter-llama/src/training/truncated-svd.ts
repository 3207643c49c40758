/** The leading `rank` singular triplets of an m×n matrix: M ≈ U · diag(S) · Vᵀ. */
export interface TruncatedSvd {
  rank: number
  /** m×rank, row-major, orthonormal columns. */
  u: Float64Array
  /** The singular values, largest first. */
  s: Float64Array
  /** n×rank, row-major, orthonormal columns. */
  v: Float64Array
}

export interface TruncatedSvdOptions {
  /** Extra random directions beyond `rank` (default 10): the range finder's margin. */
  oversample?: number
  /** Power iterations (default 3): each sharpens the found subspace where singular values decay slowly. */
  powerIterations?: number
  /** Seed of the random start (default 1), so the same matrix always gives the same factors. */
  seed?: number
}

/**
 * Randomized truncated SVD (Halko, Martinsson and Tropp 2011): a Gaussian sketch Y = M·Ω of k = rank + oversample
 * columns, a few power iterations (orthonormalized each time, so small singular values survive in floating point),
 * Q an orthonormal basis of the range, then the exact SVD of the small k×n matrix QᵀM by one-sided Jacobi
 * (Hestenes), which works on QᵀM itself rather than its Gram matrix and so keeps full precision.
 * `matrix` is m×n row-major; the cost is about (2·powerIterations + 2)·m·n·k multiply-adds.
 */
export function truncatedSvd(matrix: ArrayLike<number>, m: number, n: number, rank: number, options: TruncatedSvdOptions = {}): TruncatedSvd {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 1 || n < 1 || matrix.length !== m * n) {
    throw new RangeError(`a ${m}×${n} matrix needs ${m * n} values, got ${matrix.length}`)
  }
  if (!Number.isInteger(rank) || rank < 1 || rank > Math.min(m, n)) throw new RangeError(`rank ${rank} must be an integer from 1 to ${Math.min(m, n)}`)
  const k = Math.min(rank + (options.oversample ?? 10), m, n)
  const gaussian = gaussianSource(options.seed ?? 1)
  const omega = new Float64Array(n * k)
  for (let i = 0; i < omega.length; i++) omega[i] = gaussian()

  let q = orthonormalize(multiply(matrix, m, n, omega, k), m, k)
  for (let i = 0; i < (options.powerIterations ?? 3); i++) {
    const z = orthonormalize(multiplyTransposed(matrix, m, n, q, k), n, k)
    q = orthonormalize(multiply(matrix, m, n, z, k), m, k)
  }
  // Mᵀ·Q is (QᵀM)ᵀ, n×k: its SVD W·Σ·Jᵀ gives QᵀM = J·Σ·Wᵀ, so M ≈ (Q·J)·Σ·Wᵀ.
  const { columns: w, rotation: j } = hestenes(multiplyTransposed(matrix, m, n, q, k), n, k)
  const order = Array.from({ length: k }, (_, c) => c)
  const norms = order.map((c) => columnNorm(w, n, k, c))
  order.sort((a, b) => norms[b]! - norms[a]!)

  const u = new Float64Array(m * rank)
  const s = new Float64Array(rank)
  const v = new Float64Array(n * rank)
  for (let out = 0; out < rank; out++) {
    const c = order[out]!
    const sigma = norms[c]!
    s[out] = sigma
    // A zero singular value has no direction to speak of: its vectors stay zero (they multiply by 0 anyway).
    if (sigma > 0) for (let row = 0; row < n; row++) v[row * rank + out] = w[row * k + c]! / sigma
    for (let row = 0; row < m; row++) {
      let sum = 0
      for (let t = 0; t < k; t++) sum += q[row * k + t]! * j[t * k + c]!
      u[row * rank + out] = sum
    }
  }
  return { rank, u, s, v }
}

/** M (m×n) · X (n×k), row-major. */
function multiply(matrix: ArrayLike<number>, m: number, n: number, x: Float64Array, k: number): Float64Array {
  return product(matrix, m, n, x, k, false)
}

/** Mᵀ (n×m) · X (m×k), row-major, without forming Mᵀ. */
function multiplyTransposed(matrix: ArrayLike<number>, m: number, n: number, x: Float64Array, k: number): Float64Array {
  return product(matrix, m, n, x, k, true)
}

// Both walk M in its own row order (the cache-friendly way); only which side indexes X and the output swaps.
function product(matrix: ArrayLike<number>, m: number, n: number, x: Float64Array, k: number, transposed: boolean): Float64Array {
  const out = new Float64Array((transposed ? n : m) * k)
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const a = matrix[i * n + j]!
      if (a === 0) continue
      const from = (transposed ? i : j) * k
      const to = (transposed ? j : i) * k
      for (let c = 0; c < k; c++) out[to + c]! += a * x[from + c]!
    }
  }
  return out
}

/** Modified Gram–Schmidt, twice (once is not enough in floating point); a column that vanishes becomes zero. */
function orthonormalize(a: Float64Array, rows: number, k: number): Float64Array {
  let largest = 0
  for (let c = 0; c < k; c++) largest = Math.max(largest, columnNorm(a, rows, k, c))
  for (let c = 0; c < k; c++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < c; p++) {
        let dot = 0
        for (let r = 0; r < rows; r++) dot += a[r * k + p]! * a[r * k + c]!
        for (let r = 0; r < rows; r++) a[r * k + c]! -= dot * a[r * k + p]!
      }
    }
    const norm = columnNorm(a, rows, k, c)
    const scale = norm > largest * 1e-13 ? 1 / norm : 0
    for (let r = 0; r < rows; r++) a[r * k + c]! *= scale
  }
  return a
}

function columnNorm(a: Float64Array, rows: number, k: number, c: number): number {
  let sum = 0
  for (let r = 0; r < rows; r++) sum += a[r * k + c]! ** 2
  return Math.sqrt(sum)
}

/** One-sided Jacobi: rotates column pairs of `a` (rows×k) until all are orthogonal; returns them and the k×k rotation. */
function hestenes(a: Float64Array, rows: number, k: number): { columns: Float64Array; rotation: Float64Array } {
  const rotation = new Float64Array(k * k)
  for (let c = 0; c < k; c++) rotation[c * k + c] = 1
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false
    for (let p = 0; p < k - 1; p++) {
      for (let q = p + 1; q < k; q++) {
        let alpha = 0
        let beta = 0
        let gamma = 0
        for (let r = 0; r < rows; r++) {
          const x = a[r * k + p]!
          const y = a[r * k + q]!
          alpha += x * x
          beta += y * y
          gamma += x * y
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-13 * Math.sqrt(alpha * beta)) continue
        rotated = true
        const zeta = (beta - alpha) / (2 * gamma)
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta))
        const cos = 1 / Math.sqrt(1 + t * t)
        const sin = cos * t
        rotate(a, rows, k, p, q, cos, sin)
        rotate(rotation, k, k, p, q, cos, sin)
      }
    }
    if (!rotated) break
  }
  return { columns: a, rotation }
}

function rotate(a: Float64Array, rows: number, k: number, p: number, q: number, cos: number, sin: number): void {
  for (let r = 0; r < rows; r++) {
    const x = a[r * k + p]!
    const y = a[r * k + q]!
    a[r * k + p] = cos * x - sin * y
    a[r * k + q] = sin * x + cos * y
  }
}

/** Standard normal draws (Box–Muller over mulberry32), deterministic for a seed. */
function gaussianSource(seed: number): () => number {
  let state = seed >>> 0
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296
  }
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
}
