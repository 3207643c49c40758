import { BadRequestError } from '@cy/core'
import { readdirSync } from 'node:fs'
import { extname, isAbsolute, join } from 'node:path'
import type { LoraRequest } from './lora-tags.ts'

export const LORA_EXTENSIONS = ['.safetensors', '.gguf', '.ckpt', '.pt']

/** The LoRA files in a folder, by name without extension. */
export function listLoras(dir: string): Map<string, string> {
  const found = new Map<string, string>()
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return found
  }
  for (const name of names.sort()) {
    const extension = extname(name)
    if (LORA_EXTENSIONS.includes(extension.toLowerCase()) && !found.has(name.slice(0, -extension.length))) found.set(name.slice(0, -extension.length), join(dir, name))
  }
  return found
}

/** A name that could leave the folder (a separator, `..`, an absolute path, NUL) is never looked up. */
function isPlainName(name: string): boolean {
  return name.length > 0 && !isAbsolute(name) && !/[\\/\0]/.test(name) && name !== '.' && name !== '..'
}

/**
 * Resolves LoRA names to files inside the model's `lorasDir` only (the allow-list): a path is refused, an
 * unknown name is a 400 listing the ones there are. The same LoRA named twice adds its weights, as sd-cli does.
 */
export function resolveLoras(requested: LoraRequest[], lorasDir: string | undefined): Array<{ path: string; multiplier: number }> {
  if (requested.length === 0) return []
  if (!lorasDir) throw new BadRequestError("This model has no LoRA folder (its 'lorasDir' option): it takes no LoRAs", { param: 'loras', code: 'invalid_value' })
  const available = listLoras(lorasDir)
  const weights = new Map<string, number>()
  for (const { name, weight } of requested) {
    if (!isPlainName(name)) throw new BadRequestError(`Invalid LoRA name '${name}': give a name from the model's LoRA folder, not a path`, { param: 'loras', code: 'invalid_value' })
    const path = available.get(name) ?? available.get(name.replace(/\.[^.]+$/, ''))
    if (!path) {
      const list = [...available.keys()]
      throw new BadRequestError(`Unknown LoRA '${name}'; this model has ${list.length ? list.map((n) => `'${n}'`).join(', ') : 'none'}`, { param: 'loras', code: 'invalid_value' })
    }
    weights.set(path, (weights.get(path) ?? 0) + weight)
  }
  return [...weights].map(([path, multiplier]) => ({ path, multiplier }))
}
