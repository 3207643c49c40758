import { cc } from 'bun:ffi'
import type { Calls } from './ffi-types.ts'

type Symbols = Parameters<typeof cc>[0]['symbols']

/**
 * Compiles a C shim with bun:ffi's built-in compiler against an engine's headers. Shims carry the calls
 * that pass structs by value; they receive the engine's functions as addresses, so nothing is linked.
 */
export function compileShim<S extends Symbols>(source: string, includeDirs: string[], symbols: S): { symbols: Calls<ReturnType<typeof cc<S>>['symbols']> } {
  return cc({ source, include: includeDirs, symbols }) as unknown as { symbols: Calls<ReturnType<typeof cc<S>>['symbols']> }
}
