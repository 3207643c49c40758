/**
 * The espeak-ng C functions the phonemizer calls (speak_lib.h, 1.51 ABI), as bun:ffi declares them.
 * 1.51 (Debian 12) has no espeak_TextToPhonemesWithTerminator: clause terminators are recovered from
 * how far espeak_TextToPhonemes advances the text pointer (see espeak-native.ts).
 */
export const ESPEAK_SYMBOLS = {
  // int espeak_Initialize(espeak_AUDIO_OUTPUT output, int buflength, const char *path, int options): sample rate, or -1.
  espeak_Initialize: { args: ['i32', 'i32', 'ptr', 'i32'], returns: 'i32' },
  // const char *espeak_Info(const char **path_data): the version; *path_data = the data folder it uses.
  espeak_Info: { args: ['ptr'], returns: 'ptr' },
  // espeak_ERROR espeak_SetVoiceByName(const char *name): 0 = EE_OK.
  espeak_SetVoiceByName: { args: ['ptr'], returns: 'i32' },
  // const char *espeak_TextToPhonemes(const void **textptr, int textmode, int phonememode): one clause; advances *textptr (NULL at the end).
  espeak_TextToPhonemes: { args: ['ptr', 'i32', 'i32'], returns: 'ptr' },
} as const

/** espeak_AUDIO_OUTPUT: no audio device, no callback thread. */
export const AUDIO_OUTPUT_SYNCHRONOUS = 2
/** espeakINITIALIZE_DONT_EXIT: report a missing data folder instead of calling exit(). */
export const ESPEAK_INITIALIZE_DONT_EXIT = 0x8000
/** textmode: the text is UTF-8. */
export const ESPEAK_CHARS_UTF8 = 1
/** phonememode: IPA (bit 1), no separator between phonemes (bits 8–23 zero), as piper-phonemize asks. */
export const ESPEAK_PHONEMES_IPA = 0x02
/** espeak_ERROR EE_OK. */
export const EE_OK = 0
