/**
 * The one place the llama.cpp version is pinned. The shim is compiled against the headers vendored
 * from this version (vendor/llama.cpp), so a library of another version is refused: its structs may differ.
 */
export const LLAMA_CPP_VERSION = '0.5.0'

/** The `@node-llama-cpp/*` binary packages that carry this llama.cpp version. */
export const BINARY_PACKAGES_VERSION = '3.22.1'

export function isPinnedVersion(version: string): boolean {
  return version === LLAMA_CPP_VERSION || version.startsWith(`${LLAMA_CPP_VERSION}-`)
}
