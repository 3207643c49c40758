// Run in a child process on a candidate library: one that crashes on load, or is not espeak-ng, takes
// down this child, not the server. Initializes it where it looks for its data by itself and prints its
// version and that folder as JSON.
import { espeakLibraryFile } from './espeak-library-file.ts'
import { EspeakNative } from './espeak-native.ts'

const path = process.argv[2]
if (!path) throw new Error('usage: espeak-smoke-test.ts <library file, folder or soname>')
try {
  const library = espeakLibraryFile(path)
  const native = new EspeakNative(library)
  native.initialize(undefined)
  const { version, dataPath } = native.info()
  console.log(JSON.stringify({ version, dataPath, library }))
} catch (error) {
  // The reason alone: the parent quotes this stderr in its error.
  console.error((error as Error).message)
  process.exit(1)
}
