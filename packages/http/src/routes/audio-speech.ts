import { CancelledError, SpeechRequestSchema, toApiError, type SpeechRequest } from '@cy/core'
import { t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { OPENAI_PCM_RATE } from '../audio/audio-formats.ts'
import { speechAudio } from '../audio/speech-audio.ts'
import { SSE_HEADERS, sseData } from '../sse/sse-frame.ts'
import { errorResponses } from '../wire/error-body.ts'
import type { JsonRoute } from './json-route.ts'

/** Streams an async iterable of bytes; stopping early (client gone) aborts the channel through `onCancel`. */
function byteStream(source: AsyncIterable<string | Uint8Array>, onCancel: () => void): ReadableStream {
  const iterator = source[Symbol.asyncIterator]()
  return new ReadableStream({
    async pull(controller) {
      try {
        const next = await iterator.next()
        if (next.done) controller.close()
        else controller.enqueue(next.value)
      } catch (error) {
        controller.error(error)
      }
    },
    async cancel() {
      onCancel()
      await iterator.return?.()
    },
  })
}

/**
 * Headers every speech answer carries: pcm's rate (OpenAI's 24 kHz, which other rates are resampled to), and
 * a `Warning` naming the fields the request set that the model accepts but does not apply (its metadata's
 * `ignoredParameters`, e.g. `instructions` for voices that cannot be steered), so they are not ignored silently.
 */
function speechHeaders(ctx: ApiContext, speech: SpeechRequest): Record<string, string> {
  const headers: Record<string, string> = speech.response_format === 'pcm' ? { 'x-sample-rate': String(speech.sample_rate ?? OPENAI_PCM_RATE) } : {}
  const listed = ctx.registry.info(speech.model)?.metadata.ignoredParameters
  const fields = speech as Record<string, unknown>
  const ignored = Array.isArray(listed) ? listed.filter((name): name is string => typeof name === 'string' && fields[name] !== undefined && fields[name] !== '') : []
  if (ignored.length > 0) headers.warning = `299 cy "${ignored.join(', ')}: accepted and not applied by this model"`
  return headers
}

export const audioSpeechRoute: JsonRoute<SpeechRequest> = {
  path: '/v1/audio/speech',
  schema: SpeechRequestSchema,
  response: { 200: t.File({ description: 'The audio, streamed as it is produced; SSE `speech.audio.*` events with `stream_format: "sse"`.' }), ...errorResponses },
  detail: { tags: ['Audio'], summary: 'Generate speech', description: 'Audio in `response_format` (mp3 by default); formats other than the provider’s own are converted with ffmpeg.' },
  async serve(ctx, speech, request) {
    const channel = await ctx.dispatcher.dispatch('tts', speech, { signal: () => request.signal, trace: ctx.observer.record(request) })
    const audio = await speechAudio(channel, speech.response_format ?? 'mp3', speech.sample_rate)
    const cancel = () => channel.abort(new CancelledError('The client closed the stream'))
    if (speech.stream_format === 'sse') {
      const events = (async function* () {
        try {
          for await (const bytes of audio.bytes) {
            yield sseData(JSON.stringify({ type: 'speech.audio.delta', audio: Buffer.from(bytes).toString('base64') }))
          }
          const usage = audio.usage()
          const input = usage?.promptTokens ?? 0
          const output = usage?.completionTokens ?? 0
          yield sseData(JSON.stringify({ type: 'speech.audio.done', usage: { input_tokens: input, output_tokens: output, total_tokens: input + output } }))
        } catch (error) {
          yield sseData(JSON.stringify(toApiError(error).toJSON()))
        }
      })()
      return new Response(byteStream(events, cancel), { headers: { ...SSE_HEADERS, ...speechHeaders(ctx, speech) } })
    }
    return new Response(byteStream(audio.bytes, cancel), { headers: { 'content-type': audio.contentType, ...speechHeaders(ctx, speech) } })
  },
}
