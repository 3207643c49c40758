/** The rich tags SenseVoice emits before its text (SenseVoice README, model.py; FunASR emoji_dict). */
export const LANGUAGE_TAGS: Readonly<Record<string, string>> = {
  '<|zh|>': 'zh',
  '<|en|>': 'en',
  '<|yue|>': 'yue',
  '<|ja|>': 'ja',
  '<|ko|>': 'ko',
  '<|nospeech|>': 'nospeech',
}

export const EMOTION_TAGS: Readonly<Record<string, string>> = {
  '<|HAPPY|>': 'happy',
  '<|SAD|>': 'sad',
  '<|ANGRY|>': 'angry',
  '<|NEUTRAL|>': 'neutral',
  '<|FEARFUL|>': 'fearful',
  '<|DISGUSTED|>': 'disgusted',
  '<|SURPRISED|>': 'surprised',
  '<|EMO_UNKNOWN|>': 'unknown',
}

export const EVENT_TAGS: Readonly<Record<string, string>> = {
  '<|BGM|>': 'BGM',
  '<|Speech|>': 'Speech',
  '<|Applause|>': 'Applause',
  '<|Laughter|>': 'Laughter',
  '<|Cry|>': 'Cry',
  '<|Sneeze|>': 'Sneeze',
  '<|Breath|>': 'Breath',
  '<|Cough|>': 'Cough',
  '<|Sing|>': 'Sing',
  '<|Speech_Noise|>': 'Speech_Noise',
  '<|Event_UNK|>': 'Event_UNK',
}

export const ITN_TAGS: Readonly<Record<string, boolean>> = { '<|withitn|>': true, '<|woitn|>': false }

export type RichTag =
  | { kind: 'language'; value: string }
  | { kind: 'emotion'; value: string }
  | { kind: 'event'; value: string }
  | { kind: 'itn'; value: boolean }

/** Pieces shaped `<|…|>`: SenseVoice's special tokens, never text. */
export const isTagPiece = (piece: string): boolean => piece.length > 4 && piece.startsWith('<|') && piece.endsWith('|>')

/** The tag a piece is, by membership in the sets above (not by its position), or undefined. */
export function classifyTag(piece: string): RichTag | undefined {
  if (Object.hasOwn(LANGUAGE_TAGS, piece)) return { kind: 'language', value: LANGUAGE_TAGS[piece]! }
  if (Object.hasOwn(EMOTION_TAGS, piece)) return { kind: 'emotion', value: EMOTION_TAGS[piece]! }
  if (Object.hasOwn(EVENT_TAGS, piece)) return { kind: 'event', value: EVENT_TAGS[piece]! }
  if (Object.hasOwn(ITN_TAGS, piece)) return { kind: 'itn', value: ITN_TAGS[piece]! }
  return undefined
}
