import { status, type Metadata, type UntypedServiceImplementation } from '@grpc/grpc-js'
import type { ServiceDefinition } from '@grpc/proto-loader'
import { grpcError } from './grpc-status.ts'

const NOT_YET = {
  code: status.UNIMPLEMENTED,
  details: 'Training is not available on this server yet: TrainingService is declared in ai_service.proto, its RPCs are not implemented',
}

type CallError = typeof NOT_YET | ReturnType<typeof grpcError>

/** TrainingService's RPCs: behind the key like the rest, then UNIMPLEMENTED with a clear message until training is built. */
export function trainingService(definition: ServiceDefinition, checkKey: (metadata: Metadata) => void): UntypedServiceImplementation {
  const answer = (metadata: Metadata): CallError => {
    try {
      checkKey(metadata)
      return NOT_YET
    } catch (error) {
      return grpcError(error)
    }
  }
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      method.responseStream
        ? (call: { metadata: Metadata; emit(event: 'error', error: CallError): void }) => call.emit('error', answer(call.metadata))
        : (call: { metadata: Metadata }, callback: (error: CallError) => void) => callback(answer(call.metadata)),
    ]),
  )
}
