// The container files' lint: the Dockerfile through dockerfile-utils (the linter of VS Code's Docker support;
// hadolint is on neither Debian nor npm) and every Kubernetes manifest in deploy/ against the Kubernetes API
// schemas (kubernetes-models).
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils'
import { Deployment } from 'kubernetes-models/apps/v1'
import { PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'

const strict: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
}

/** The Dockerfile's problems, one line each ("Dockerfile:12: ..."). */
export function lintDockerfile(text: string): string[] {
  return validate(text, strict).map((diagnostic) => `Dockerfile:${diagnostic.range.start.line + 1}: ${diagnostic.message}`)
}

const kinds = { 'apps/v1 Deployment': Deployment, 'v1 Service': Service, 'v1 Secret': Secret, 'v1 PersistentVolumeClaim': PersistentVolumeClaim }

/** Each YAML manifest's objects checked against the Kubernetes API schemas: the problems, and how many passed. */
export function lintManifests(folder: string): { problems: string[]; valid: number } {
  const problems: string[] = []
  let valid = 0
  for (const name of readdirSync(folder).filter((file) => file.endsWith('.yaml'))) {
    for (const document of parseAllDocuments(readFileSync(join(folder, name), 'utf8'))) {
      if (document.errors.length) {
        problems.push(`${name}: ${document.errors.map((error) => error.message).join('; ')}`)
        continue
      }
      const object = document.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string } }
      const Model = kinds[`${object.apiVersion} ${object.kind}` as keyof typeof kinds]
      const label = `${name}: ${object.kind} ${object.metadata?.name ?? '(no name)'}`
      if (!Model) {
        problems.push(`${label}: no schema here for ${object.apiVersion} ${object.kind}`)
        continue
      }
      try {
        new Model(object as never).validate()
        valid++
      } catch (error) {
        problems.push(`${label}: ${(error as Error).message}`)
      }
    }
  }
  return { problems, valid }
}
