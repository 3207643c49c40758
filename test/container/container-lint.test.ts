import { describe, expect, test } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lintDockerfile, lintManifests } from './container-lint.ts'

const root = join(import.meta.dir, '..', '..')

describe('the container files pass their linters', () => {
  test('the Dockerfile is clean under dockerfile-utils (every rule an error); a broken one is not', async () => {
    expect(lintDockerfile(await Bun.file(join(root, 'Dockerfile')).text())).toEqual([])
    expect(lintDockerfile('from debian:bookworm-slim\nWORKDIR app\nCMD ["a"]\nCMD ["b"]\n').length).toBeGreaterThan(0)
  })

  test('every Kubernetes object in deploy/kubernetes is valid against the API schemas; a wrong one is not', async () => {
    const { problems, valid } = lintManifests(join(root, 'deploy', 'kubernetes'))
    expect(problems).toEqual([])
    expect(valid).toBeGreaterThan(4)
    const dir = await mkdtemp(join(tmpdir(), 'cy-k8s-'))
    try {
      await writeFile(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: { name: x }\nspec: { ports: [{ port: "eighty" }] }\n')
      expect(lintManifests(dir).problems.length).toBe(1)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
