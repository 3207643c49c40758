import {
  CAPABILITIES,
  ChatRequestSchema,
  CompletionRequestSchema,
  EmbeddingRequestSchema,
  ImageRequestSchema,
  SpeechRequestSchema,
  TranscriptionParamsSchema,
  type Capability,
} from '@cy/core'
import { validationError } from '@cy/http'
import { Type, type TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import type { RunRequest } from './protocol.ts'

/** What an ASR handler gets: the transcription fields, the task, and the file (its bytes as bytes). */
const AsrRequestSchema = Type.Composite([
  TranscriptionParamsSchema,
  Type.Object({
    task: Type.Union([Type.Literal('transcribe'), Type.Literal('translate')]),
    file: Type.Object({ name: Type.String(), type: Type.String(), bytes: Type.Uint8Array({ minByteLength: 1 }) }),
  }),
])

/** The same request schemas the master's routes check, so a call to a worker cannot skip them. */
const SCHEMAS: Record<Capability, TSchema> = {
  chat: ChatRequestSchema,
  completion: CompletionRequestSchema,
  embedding: EmbeddingRequestSchema,
  asr: AsrRequestSchema,
  tts: SpeechRequestSchema,
  image: ImageRequestSchema,
}

const envelope = TypeCompiler.Compile(
  Type.Object({ capability: Type.Union(CAPABILITIES.map((capability) => Type.Literal(capability))), request: Type.Object({}), priority: Type.Optional(Type.Integer()) }),
)
const checks = new Map<Capability, TypeCheck<TSchema>>(CAPABILITIES.map((capability) => [capability, TypeCompiler.Compile(SCHEMAS[capability])]))

/** The run request if it is well formed, else a 400 naming the bad parameter (of the OpenAI request). */
export function checkRunRequest(value: unknown): RunRequest {
  if (!envelope.Check(value)) throw validationError([...envelope.Errors(value)])
  const check = checks.get(value.capability)!
  if (!check.Check(value.request)) throw validationError([...check.Errors(value.request)])
  return value
}
