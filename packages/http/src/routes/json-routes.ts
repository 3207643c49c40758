import { ENGINE_JSON_ROUTES } from '../engine-api/inference-routes.ts'
import { trainingStartRoute } from '../engine-api/training-routes.ts'
import { audioSpeechRoute } from './audio-speech.ts'
import { chatCompletionsRoute } from './chat-completions.ts'
import { completionsRoute } from './completions.ts'
import { embeddingsRoute } from './embeddings.ts'
import { imageGenerationsRoute } from './image-generations.ts'
import type { JsonRoute } from './json-route.ts'
import { responsesRoute } from './responses.ts'

/** Every route that takes a JSON body. */
export const JSON_ROUTES: readonly JsonRoute<any>[] = [
  chatCompletionsRoute,
  completionsRoute,
  embeddingsRoute,
  audioSpeechRoute,
  imageGenerationsRoute,
  responsesRoute,
  ...ENGINE_JSON_ROUTES,
  trainingStartRoute,
]
