import { existsSync } from 'node:fs'

/** What a ggml-based engine can be built for. */
export type Backend = 'cpu' | 'cuda' | 'metal' | 'vulkan'

/** The best backend this machine can build: CUDA when nvcc is there, Metal on macOS, else CPU. */
export function detectBackend(): Backend {
  if (process.platform === 'darwin') return 'metal'
  if (Bun.which('nvcc') || existsSync('/usr/local/cuda/bin/nvcc')) return 'cuda'
  return 'cpu'
}

/** The backends worth trying on this machine, best first (a GPU build that fails falls back to CPU). */
export function candidateBackends(): Backend[] {
  return [...new Set<Backend>([detectBackend(), 'cpu'])]
}
