import { BadRequestError, TranscriptionFormatSchema, type AsrRequest } from '@cy/core'
import { Elysia, t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { collectTranscript, toJson, toSrt, toVerboseJson, toVtt } from '../encoders/transcript.ts'
import { jsonResponse, textResponse } from '../json-response.ts'
import { TranscriptStreamEncoder } from '../encoders/transcript-events.ts'
import { eventStream } from '../sse/stream-response.ts'
import { errorResponses } from '../wire/error-body.ts'
import { TranscriptionBody } from '../wire/transcription.ts'

const Granularity = t.Union([t.Literal('word'), t.Literal('segment')])
const Granularities = t.Optional(t.Union([Granularity, t.Array(Granularity)]))
const Include = t.Union([t.Literal('logprobs'), t.Literal('raw_text')])
const Includes = t.Optional(t.Union([Include, t.Array(Include)]))

const TranscriptionForm = t.Object({
  file: t.File({ description: 'The audio file (wav, mp3, ogg, flac, m4a, webm...).' }),
  model: t.String({ minLength: 1 }),
  language: t.Optional(t.String()),
  prompt: t.Optional(t.String()),
  response_format: t.Optional(TranscriptionFormatSchema),
  temperature: t.Optional(t.Numeric({ minimum: 0, maximum: 1 })),
  // The SDK sends the array as repeated `timestamp_granularities[]` fields.
  'timestamp_granularities[]': Granularities,
  timestamp_granularities: Granularities,
  stream: t.Optional(t.BooleanString()),
  // The SDK sends `include` as repeated `include[]` fields.
  'include[]': Includes,
  include: Includes,
  text_norm: t.Optional(t.Union([t.Literal('with_itn'), t.Literal('without_itn')], { description: 'Extension: punctuation and numbers (inverse text normalization) on or off.' })),
})

type TranscriptionFormBody = typeof TranscriptionForm.static

const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])

async function toAsrRequest(form: TranscriptionFormBody, task: AsrRequest['task']): Promise<AsrRequest> {
  const bytes = new Uint8Array(await form.file.arrayBuffer())
  if (bytes.length === 0) throw new BadRequestError('The audio file is empty', { param: 'file', code: 'empty_file' })
  const granularities = [...asList(form['timestamp_granularities[]']), ...asList(form.timestamp_granularities)]
  const request: AsrRequest = {
    task,
    model: form.model,
    file: { name: (form.file as File).name ?? 'audio', type: form.file.type, bytes },
    response_format: form.response_format ?? 'json',
  }
  if (form.language) request.language = form.language
  if (form.prompt) request.prompt = form.prompt
  if (form.temperature !== undefined) request.temperature = form.temperature
  if (granularities.length > 0) request.timestamp_granularities = [...new Set(granularities)]
  if (form.stream) request.stream = true
  const include = [...asList(form['include[]']), ...asList(form.include)]
  if (include.length > 0) request.include = [...new Set(include)]
  if (form.text_norm) request.text_norm = form.text_norm
  return request
}

const asrRoute = (ctx: ApiContext, task: AsrRequest['task']) =>
  async ({ body, request }: { body: TranscriptionFormBody; request: Request }) => {
    const asr = await toAsrRequest(body, task)
    const channel = await ctx.dispatcher.dispatch('asr', asr, { signal: () => request.signal, trace: ctx.observer.record(request) })
    if (asr.stream) return eventStream(channel, channel.take(), new TranscriptStreamEncoder(), ctx.stream)
    const transcript = await collectTranscript(channel)
    switch (asr.response_format) {
      case 'text':
        return textResponse(transcript.text)
      case 'srt':
        return textResponse(toSrt(transcript))
      case 'vtt':
        return textResponse(toVtt(transcript), 'text/vtt; charset=utf-8')
      case 'verbose_json':
        return jsonResponse(toVerboseJson(transcript, task, asr.temperature ?? 0, asr.timestamp_granularities?.includes('word') ?? false))
      default:
        return jsonResponse(toJson(transcript))
    }
  }

const routeSchema = (summary: string, description: string) => ({
  body: TranscriptionForm,
  type: 'multipart/form-data' as const,
  response: { 200: TranscriptionBody, ...errorResponses },
  detail: { tags: ['Audio'], summary, description },
})

export const audioTranscriptionsRoute = (ctx: ApiContext) =>
  new Elysia()
    .post(
      '/v1/audio/transcriptions',
      asrRoute(ctx, 'transcribe'),
      routeSchema('Transcribe audio', 'Multipart upload; `response_format` json, text, srt, vtt or verbose_json (`timestamp_granularities[]=word` adds words); `stream=true` gives `transcript.text.*` events.'),
    )
    .post('/v1/audio/translations', asrRoute(ctx, 'translate'), routeSchema('Translate audio into English', 'Same form and formats as transcriptions.'))
