import { withUploadFiles } from '@cy/core'
import { expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'

test('uploads are files while the call runs, in order, and gone after it, even when it fails', async () => {
  let seen: string[] = []
  const result = await withUploadFiles('cy-test-upload', [Uint8Array.of(1, 2), Uint8Array.of(3)], async (paths) => {
    seen = paths
    expect(paths.map((path) => Array.from(readFileSync(path)))).toEqual([[1, 2], [3]])
    return 'done'
  })
  expect(result).toBe('done')
  expect(seen.some((path) => existsSync(path))).toBe(false)
  const failed = await withUploadFiles('cy-test-upload', [Uint8Array.of(9)], async (paths) => {
    seen = paths
    throw new Error('engine died')
  }).catch((error: Error) => error.message)
  expect(failed).toBe('engine died')
  expect(existsSync(seen[0]!)).toBe(false)
})
