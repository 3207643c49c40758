import type { Pointer } from 'bun:ffi'

/**
 * bun:ffi types pointer results as `Pointer | bigint | null`; on 64-bit they are always `Pointer | null`.
 * `Calls<typeof lib.symbols>` is the same table with that settled.
 */
export type Calls<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Exclude<R, bigint> : T[K] }

/** A NUL-terminated UTF-8 copy of a string, for `char *` arguments. */
export function cstr(text: string): Uint8Array {
  return new TextEncoder().encode(`${text}\0`)
}

/** The address of a dlopen'ed function, for a shim to call through. */
export function functionAddress(symbol: unknown): Pointer {
  return (symbol as { ptr: Pointer }).ptr
}
