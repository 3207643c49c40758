import { loadSync, type PackageDefinition, type ServiceDefinition } from '@grpc/proto-loader'
import { protoPath as healthProtoPath } from 'grpc-health-check'
import { dirname, join } from 'node:path'

/** The engine's proto file (seed 004's `ai_service.proto`), shipped with the package. */
export const AI_SERVICE_PROTO = join(import.meta.dir, '..', 'proto', 'ai_service.proto')

/** The proto package of the engine's services. */
export const PROTO_PACKAGE = 'cy.engine.v1'
export const AI_SERVICE = `${PROTO_PACKAGE}.AIService`
export const TRAINING_SERVICE = `${PROTO_PACKAGE}.TrainingService`

/**
 * How messages become objects: field names as the proto writes them, 64-bit integers as strings, enums
 * by name, no defaults filled in (so an unset `optional` field is absent, and a set 0 stays 0) and the
 * synthetic oneofs of proto3 `optional`.
 */
export const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true } as const

export interface ServiceDefinitions {
  /** Every served service's messages, for reflection (so `grpcurl list` and `describe` work). */
  packageDefinition: PackageDefinition
  aiService: ServiceDefinition
  trainingService: ServiceDefinition
}

/** Loads the engine's proto and the health checking proto into one package definition. */
export function loadServiceDefinitions(): ServiceDefinitions {
  const packageDefinition = loadSync([AI_SERVICE_PROTO, healthProtoPath], { ...LOADER_OPTIONS, includeDirs: [dirname(healthProtoPath)] })
  return {
    packageDefinition,
    aiService: packageDefinition[AI_SERVICE] as ServiceDefinition,
    trainingService: packageDefinition[TRAINING_SERVICE] as ServiceDefinition,
  }
}
