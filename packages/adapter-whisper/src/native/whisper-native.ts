import { compileShim, cstr, functionAddress as fn, type Calls } from '@cy/native'
import { CString, dlopen, JSCallback, ptr, type Pointer } from 'bun:ffi'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { WHISPER_SHIM_SYMBOLS, WHISPER_SYMBOLS } from './whisper-symbols.ts'

const SHIM_SOURCE = join(import.meta.dir, 'whisper-shim.c')


export interface TranscribeOptions {
  threads: number
  translate: boolean
  /** ISO-639-1 code, or 'auto' to detect. */
  language: string
  prompt: string | undefined
  temperature: number
  /** Raise the temperature and decode again when a segment looks wrong (whisper's default). */
  fallback: boolean
  beamSize: number
  wordTimestamps: boolean
}

export interface NativeToken {
  id: number
  text: string
  p: number
  plog: number
  /** Seconds. */
  start: number
  end: number
}

export interface NativeSegment {
  start: number
  end: number
  text: string
  noSpeechProb: number
  tokens: NativeToken[]
}


/** ggml's libraries in load order, each with a symbol it surely exports (dlopen wants one). */
const GGML_LIBRARIES: Array<[stem: string, symbol: string]> = [
  ['libggml-base', 'ggml_time_us'],
  ['libggml-cpu', 'ggml_backend_cpu_init'],
  ['libggml-cuda', 'ggml_backend_cuda_init'],
  ['libggml-metal', 'ggml_backend_metal_init'],
  ['libggml-vulkan', 'ggml_backend_vk_init'],
  ['libggml.', 'ggml_backend_reg_count'],
]

/** The library in `dir` whose name starts with `stem`, shortest name first (libggml.so before libggml.so.0). */
function find(dir: string, stem: string): string | undefined {
  const extension = process.platform === 'darwin' ? '.dylib' : '.so'
  const name = readdirSync(dir)
    .filter((n) => n.startsWith(stem) && n.includes(extension))
    .sort((a, b) => a.length - b.length)[0]
  return name ? join(dir, name) : undefined
}

/**
 * The typed wrapper over whisper.cpp: pointers, buffers, strings and the struct-by-value shim live here,
 * so the engine above speaks in numbers, strings and typed arrays. One instance per thread.
 */
export class WhisperNative {
  readonly calls: Calls<ReturnType<typeof dlopen<typeof WHISPER_SYMBOLS>>['symbols']>
  readonly shim: ReturnType<typeof compileShim<typeof WHISPER_SHIM_SYMBOLS>>
  readonly version: string
  readonly #keep: unknown[] = []

  constructor(
    readonly libDir: string,
    headerDirs: string[],
  ) {
    const whisperFile = find(libDir, 'libwhisper')
    if (!whisperFile) throw new Error(`No libwhisper shared library in ${libDir}`)
    // ggml first, by absolute path: libwhisper's references to them then resolve to these, wherever it was built.
    for (const [stem, symbol] of GGML_LIBRARIES) {
      const file = find(libDir, stem)
      if (file) this.#keep.push(dlopen(file, { [symbol]: { args: [], returns: 'void' } }))
    }
    const lib = dlopen(whisperFile, WHISPER_SYMBOLS)
    this.#keep.push(lib)
    this.calls = lib.symbols as unknown as typeof this.calls
    this.shim = compileShim(SHIM_SOURCE, headerDirs, WHISPER_SHIM_SYMBOLS)
    this.shim.symbols.cy_whisper_quiet_logs(fn(lib.symbols.whisper_log_set))
    this.version = String(this.calls.whisper_version())
  }

  init(path: string, useGpu: boolean, flashAttention: boolean): Pointer | null {
    return this.shim.symbols.cy_whisper_init(fn(this.calls.whisper_context_default_params), fn(this.calls.whisper_init_from_file_with_params), cstr(path), useGpu ? 1 : 0, flashAttention ? 1 : 0)
  }

  newState(context: Pointer): Pointer | null {
    return this.calls.whisper_init_state(context)
  }

  /**
   * Runs whisper_full on 16 kHz mono samples. `onSegment(first, count)` is called on this thread as
   * segments are decoded; `abortFlag` (shared memory) stops the work when set. Returns whisper's code.
   */
  transcribe(context: Pointer, state: Pointer, samples: Float32Array, options: TranscribeOptions, abortFlag: Int32Array, onSegment?: (first: number, count: number) => void): number {
    const language = cstr(options.language)
    const prompt = options.prompt ? cstr(options.prompt) : null
    const callback = onSegment
      ? new JSCallback((_ctx: Pointer, segmentState: Pointer, count: number) => {
          const total = this.calls.whisper_full_n_segments_from_state(segmentState)
          onSegment(total - count, count)
        }, { args: ['ptr', 'ptr', 'i32', 'ptr'], returns: 'void' })
      : null
    try {
      return this.shim.symbols.cy_whisper_full(
        fn(this.calls.whisper_full_default_params),
        fn(this.calls.whisper_full_with_state),
        context,
        state,
        ptr(samples),
        samples.length,
        options.threads,
        options.translate ? 1 : 0,
        ptr(language),
        prompt ? ptr(prompt) : null,
        options.temperature,
        options.fallback ? 1 : 0,
        options.beamSize,
        options.wordTimestamps ? 1 : 0,
        ptr(abortFlag),
        callback?.ptr ?? null,
        null,
      )
    } finally {
      callback?.close()
    }
  }

  segmentCount(state: Pointer): number {
    return this.calls.whisper_full_n_segments_from_state(state)
  }

  /** Segment `index` with its tokens (text tokens only: specials and timestamps are left out). */
  segment(context: Pointer, state: Pointer, index: number): NativeSegment {
    const c = this.calls
    const eot = c.whisper_token_eot(context)
    const tokens: NativeToken[] = []
    const data = new Float64Array(4)
    for (let i = 0; i < c.whisper_full_n_tokens_from_state(state, index); i++) {
      const id = c.whisper_full_get_token_id_from_state(state, index, i)
      if (id >= eot) continue
      this.shim.symbols.cy_whisper_token_data(fn(c.whisper_full_get_token_data_from_state), state, index, i, ptr(data))
      tokens.push({ id, text: this.#string(c.whisper_token_to_str(context, id)), p: data[0]!, plog: data[1]!, start: data[2]! / 100, end: data[3]! / 100 })
    }
    return {
      start: Number(c.whisper_full_get_segment_t0_from_state(state, index)) / 100,
      end: Number(c.whisper_full_get_segment_t1_from_state(state, index)) / 100,
      text: this.#string(c.whisper_full_get_segment_text_from_state(state, index)),
      noSpeechProb: c.whisper_full_get_segment_no_speech_prob_from_state(state, index),
      tokens,
    }
  }

  language(state: Pointer): string {
    const id = this.calls.whisper_full_lang_id_from_state(state)
    return id < 0 ? 'en' : String(this.calls.whisper_lang_str(id))
  }

  #string(pointer: Pointer | null): string {
    return pointer ? new CString(pointer).toString() : ''
  }
}
