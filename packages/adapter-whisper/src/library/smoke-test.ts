// Run in a child process on a candidate library folder: a library that crashes on load, or is not
// whisper.cpp at all, takes down this child, not the server. Loads it as the engine does (ggml, libwhisper,
// the shim compiled against the pinned headers) and prints what it found as JSON.
import { WhisperNative } from '../native/whisper-native.ts'
import { shimHeaderDirs } from './engine-build.ts'

const dir = process.argv[2]
if (!dir) throw new Error('usage: smoke-test.ts <library folder>')
const native = new WhisperNative(dir, shimHeaderDirs())
console.log(JSON.stringify({ version: native.version, system: String(native.calls.whisper_print_system_info()).trim() }))
