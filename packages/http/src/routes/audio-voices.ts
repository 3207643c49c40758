import { NotFoundError } from '@cy/core'
import { Elysia, t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { jsonResponse } from '../json-response.ts'
import { ErrorBody } from '../wire/error-body.ts'
import { modelVoices, VoiceList } from '../wire/voices.ts'

/**
 * The voices of the text-to-speech models, in the shape Open WebUI and Kokoro-FastAPI's clients read
 * (`{ voices: [{ id, name }] }`), each with its language and model; `?model=` keeps one model's.
 */
export const audioVoicesRoute = (ctx: ApiContext) =>
  new Elysia().get(
    '/v1/audio/voices',
    ({ query }) => {
      const names = query.model ? [query.model] : ctx.registry.list('tts')
      if (query.model && !ctx.registry.has(query.model, 'tts')) {
        throw new NotFoundError(`No text-to-speech model '${query.model}'. Available: ${ctx.registry.list('tts').join(', ') || 'none'}`, { param: 'model', code: 'model_not_found' })
      }
      const voices = names.flatMap((name) => {
        const info = ctx.registry.info(name)
        return info ? modelVoices(info).map((voice) => ({ ...voice, model: name })) : []
      })
      return jsonResponse({ voices })
    },
    {
      query: t.Object({ model: t.Optional(t.String()) }),
      response: { 200: VoiceList, 404: ErrorBody },
      detail: { tags: ['Audio'], summary: 'List voices', description: 'The voices of every text-to-speech model (or of `model`), with their language.' },
    },
  )
