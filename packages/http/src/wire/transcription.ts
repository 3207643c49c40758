import { t } from 'elysia'

export const TranscriptionBody = t.Union(
  [
    t.Object({ text: t.String() }),
    t.Object({
      task: t.String(),
      language: t.String(),
      duration: t.Number(),
      text: t.String(),
      segments: t.Array(
        t.Object({
          id: t.Integer(),
          seek: t.Integer(),
          start: t.Number(),
          end: t.Number(),
          text: t.String(),
          tokens: t.Array(t.Integer()),
          temperature: t.Number(),
          avg_logprob: t.Number(),
          compression_ratio: t.Number(),
          no_speech_prob: t.Number(),
        }),
      ),
      words: t.Optional(t.Array(t.Object({ word: t.String(), start: t.Number(), end: t.Number() }))),
    }),
    t.String({ description: 'text, srt or vtt' }),
  ],
  { description: '`json` and `verbose_json` give JSON; `text`, `srt` and `vtt` give plain text.' },
)
