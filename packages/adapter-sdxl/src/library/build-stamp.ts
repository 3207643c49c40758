import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * A build from sources without git (a tarball, the vendored copy) reports sd_commit() "unknown". So the
 * build writes this file beside the library, naming the commit the sources were checked to be; a
 * library found elsewhere can carry one too (written by whoever built it, vouching for its commit).
 */
export const BUILD_STAMP = 'sd-build.json'

export interface BuildStamp {
  commit: string
  backend: string
  source: string
  builtAt: string
}

export function writeBuildStamp(libDir: string, stamp: BuildStamp): void {
  writeFileSync(join(libDir, BUILD_STAMP), `${JSON.stringify(stamp, null, 2)}\n`)
}

/** The stamp in the library's folder or the folder above it (a cached build's root). */
export function readBuildStamp(libDir: string): BuildStamp | undefined {
  for (const file of [join(libDir, BUILD_STAMP), join(dirname(libDir), BUILD_STAMP)]) {
    if (!existsSync(file)) continue
    try {
      const stamp = JSON.parse(readFileSync(file, 'utf8')) as BuildStamp
      if (typeof stamp.commit === 'string') return stamp
    } catch {
      // unreadable: as if absent
    }
  }
  return undefined
}
