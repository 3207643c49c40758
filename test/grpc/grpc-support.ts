import * as grpc from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { LOADER_OPTIONS, loadServiceDefinitions } from '@cy/grpc'
import { dirname, join } from 'node:path'

type Constructor = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client
type Namespace = { [name: string]: Namespace & Constructor }

const loaded = grpc.loadPackageDefinition(loadServiceDefinitions().packageDefinition) as unknown as Namespace
// The reflection service's own proto, from the package that serves it.
const reflectionProto = join(dirname(Bun.resolveSync('@grpc/reflection/package.json', join(import.meta.dir, '../../packages/grpc'))), 'build/proto/grpc/reflection/v1/reflection.proto')
const reflection = grpc.loadPackageDefinition(loadSync(reflectionProto, LOADER_OPTIONS)) as unknown as Namespace

export interface PredictResponse {
  trace_id: string
  chunk: string
  end_of_stream: boolean
  index: number
  finish_reason: string
}

/** A real grpc-js client of each service on `address` (`127.0.0.1:port`). */
export function clients(address: string) {
  const credentials = grpc.credentials.createInsecure()
  const make = (constructor: Constructor) => new constructor(address, credentials) as grpc.Client & Record<string, Function>
  return {
    ai: make(loaded.cy!.engine!.v1!.AIService!),
    training: make(loaded.cy!.engine!.v1!.TrainingService!),
    health: make(loaded.grpc!.health!.v1!.Health!),
    reflection: make(reflection.grpc!.reflection!.v1!.ServerReflection!),
    close() {
      for (const client of [this.ai, this.training, this.health, this.reflection]) client.close()
    },
  }
}

/** Metadata with the key in `x-api-key`, or none. */
export function withKey(key?: string, header = 'x-api-key'): grpc.Metadata {
  const metadata = new grpc.Metadata()
  if (key !== undefined) metadata.set(header, key)
  return metadata
}

/** Every response of a server stream, or its error (with the responses before it). */
export function collect(stream: grpc.ClientReadableStream<PredictResponse>): Promise<{ responses: PredictResponse[]; error?: grpc.ServiceError }> {
  const responses: PredictResponse[] = []
  return new Promise((resolve) => {
    stream.on('data', (response: PredictResponse) => responses.push(response))
    stream.on('error', (error: grpc.ServiceError) => resolve({ responses, error }))
    stream.on('end', () => resolve({ responses }))
  })
}

/** The chunks' text, and a check that the stream is well formed: indexes 0, 1, ... and one end_of_stream last. */
export function streamText(responses: PredictResponse[]): string {
  const last = responses.at(-1)
  if (!last?.end_of_stream) throw new Error('the stream did not end with end_of_stream')
  responses.forEach((response, index) => {
    if (response.index !== index) throw new Error(`response ${index} has index ${response.index}`)
    if (response.end_of_stream !== (index === responses.length - 1)) throw new Error(`end_of_stream on response ${index}`)
  })
  return responses.map((response) => response.chunk).join('')
}

/** A unary call as a promise. */
export function unary<T>(client: Record<string, Function>, method: string, request: object, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => client[method]!.call(client, request, metadata, (error: grpc.ServiceError | null, response: T) => (error ? reject(error) : resolve(response))))
}
