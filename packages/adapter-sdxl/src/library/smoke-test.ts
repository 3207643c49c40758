// Run in a child process on a candidate library folder: a library that crashes on load, or is not
// stable-diffusion.cpp at all, takes down this child, not the server. Loads it as the engine does (the
// library, and the shim compiled against the build's header) and prints what it found as JSON.
// `version` is the commit sd_commit() reports, or, for a build from sources without git ("unknown"), the
// commit the build's stamp file names (see build-stamp.ts).
import { SdNative } from '../native/sd-native.ts'
import { readBuildStamp } from './build-stamp.ts'
import { shimHeaderDirs } from './engine-build.ts'

const dir = process.argv[2]
if (!dir) throw new Error('usage: smoke-test.ts <library folder>')
const native = new SdNative(dir, shimHeaderDirs(dir))
const stamp = native.commit === 'unknown' ? readBuildStamp(dir) : undefined
console.log(
  JSON.stringify({
    version: stamp?.commit ?? native.commit,
    commit: native.commit,
    stamped: stamp !== undefined,
    release: native.version,
    samplers: native.sampleMethodNames().length,
    system: native.systemInfo,
  }),
)
