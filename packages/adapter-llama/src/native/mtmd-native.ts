import { compileShim, cstr, functionAddress as fn, type Calls } from '@cy/native'
import { dlopen, ptr, toArrayBuffer, type Pointer } from 'bun:ffi'
import { join } from 'node:path'
import { CHUNK_IMAGE, CHUNK_TEXT, MTMD_FILE, MTMD_SHIM_SYMBOLS, MTMD_SYMBOLS } from './mtmd-symbols.ts'

const SHIM_SOURCE = join(import.meta.dir, 'mtmd-shim.c')
const HEADERS = join(import.meta.dir, '..', '..', 'vendor', 'llama.cpp', 'include')

/** One piece of a tokenized multimodal prompt: text tokens, or an image's embeddings to be. */
export interface MediaChunk {
  kind: 'text' | 'image'
  /** The chunk itself, for evaluating it (owned by its chunk list). */
  pointer: Pointer
  /** A text chunk's tokens. */
  tokens?: Int32Array
  /** Entries of the context it fills (for an image, its embeddings). */
  nTokens: number
  /** Positions it advances (fewer than nTokens for M-RoPE images). */
  nPos: number
  /** An image's id: the SHA-256 of its bytes. */
  id?: string
}

export interface ProjectorOptions {
  useGpu: boolean
  threads: number
  /** The text standing for an image in the prompt. */
  marker: string
  flashAttention: -1 | 0 | 1
}

/**
 * The typed wrapper over libmtmd (llama.cpp's multimodal library): every pointer, buffer and string
 * conversion of the vision path lives here. libllama must be loaded first (LlamaNative): libmtmd uses it.
 */
export class MtmdNative {
  readonly lib
  readonly calls: Calls<ReturnType<typeof dlopen<typeof MTMD_SYMBOLS>>['symbols']>
  readonly shim: ReturnType<typeof compileShim<typeof MTMD_SHIM_SYMBOLS>>

  constructor(readonly mtmdDir: string) {
    this.lib = dlopen(join(mtmdDir, MTMD_FILE), MTMD_SYMBOLS)
    this.calls = this.lib.symbols as unknown as typeof this.calls
    this.shim = compileShim(SHIM_SOURCE, [HEADERS], MTMD_SHIM_SYMBOLS)
    this.shim.symbols.cy_mtmd_quiet_logs(fn(this.lib.symbols.mtmd_helper_log_set))
  }

  /** A projector context over a loaded text model, or null when the file is not one libmtmd reads. */
  init(path: string, model: Pointer, options: ProjectorOptions): Pointer | null {
    const s = this.lib.symbols
    // The marker's bytes stay referenced by the context: kept alive as long as this wrapper.
    this.#marker = cstr(options.marker)
    return this.shim.symbols.cy_mtmd_init(fn(s.mtmd_context_params_default), fn(s.mtmd_init_from_file), cstr(path), model, options.useGpu ? 1 : 0, options.threads, this.#marker, options.flashAttention)
  }

  #marker: Uint8Array | undefined

  /** A bitmap from an encoded PNG, JPEG, GIF or BMP (stb_image, as llama-server decodes), its id the bytes' SHA-256; null when it does not decode. */
  bitmapFromEncoded(context: Pointer, bytes: Uint8Array): Pointer | null {
    const s = this.lib.symbols
    return this.shim.symbols.cy_mtmd_bitmap_from_buf(fn(s.mtmd_helper_init_opt_default), fn(s.mtmd_helper_bitmap_init_from_buf), context, ptr(bytes), bytes.length)
  }

  /** A bitmap from 8-bit RGB pixels, with its id. */
  bitmapFromRgb(width: number, height: number, rgb: Uint8Array, id: string): Pointer {
    const bitmap = this.calls.mtmd_bitmap_init(width, height, ptr(rgb))!
    this.lib.symbols.mtmd_bitmap_set_id(bitmap, cstr(id))
    return bitmap
  }

  freeBitmap(bitmap: Pointer): void {
    this.lib.symbols.mtmd_bitmap_free(bitmap)
  }

  /**
   * Splits a prompt into chunks: its text tokenized, each marker replaced by the next bitmap's chunk.
   * Returns the chunk list (free it with `freeChunks`) or mtmd_tokenize's error code (1: markers and
   * images differ in number; 2: an image failed preprocessing).
   */
  tokenize(context: Pointer, text: string, bitmaps: Pointer[], addSpecial: boolean): { chunks: Pointer } | { code: number } {
    const chunks = this.calls.mtmd_input_chunks_init()!
    const bytes = cstr(text)
    const table = new BigUint64Array(Math.max(1, bitmaps.length))
    bitmaps.forEach((bitmap, i) => (table[i] = BigInt(bitmap)))
    const tokenize = fn(this.lib.symbols.mtmd_tokenize)
    const code = this.shim.symbols.cy_mtmd_tokenize(tokenize, context, chunks, bytes, bytes.length - 1, addSpecial ? 1 : 0, 1, ptr(table), bitmaps.length)
    if (code !== 0) {
      this.freeChunks(chunks)
      return { code }
    }
    return { chunks }
  }

  /** The chunks of a list, in order. */
  chunks(list: Pointer): MediaChunk[] {
    const s = this.calls
    const count = Number(s.mtmd_input_chunks_size(list))
    const size = new BigUint64Array(1)
    return Array.from({ length: count }, (_, i) => {
      const pointer = s.mtmd_input_chunks_get(list, i)!
      const type = s.mtmd_input_chunk_get_type(pointer)
      const nTokens = Number(s.mtmd_input_chunk_get_n_tokens(pointer))
      const nPos = s.mtmd_input_chunk_get_n_pos(pointer)
      if (type === CHUNK_TEXT) {
        const tokens = s.mtmd_input_chunk_get_tokens_text(pointer, ptr(size))
        const n = Number(size[0])
        return { kind: 'text', pointer, nTokens: n, nPos: n, tokens: n > 0 && tokens ? new Int32Array(toArrayBuffer(tokens, 0, n * 4).slice(0)) : new Int32Array(0) }
      }
      if (type !== CHUNK_IMAGE) throw new Error(`libmtmd gave a chunk of type ${type} (audio?): this server sends images only`)
      return { kind: 'image', pointer, nTokens, nPos, id: String(this.lib.symbols.mtmd_input_chunk_get_id(pointer)) }
    })
  }

  freeChunks(list: Pointer): void {
    this.lib.symbols.mtmd_input_chunks_free(list)
  }

  readonly #nPast = new Int32Array(1)

  /** Encodes an image chunk and decodes its embeddings into sequence `seq` from position `nPast`; returns the code and the next position. */
  evalChunk(context: Pointer, llamaContext: Pointer, chunk: Pointer, nPast: number, seq: number, batchSize: number): { code: number; nPast: number } {
    const code = this.lib.symbols.mtmd_helper_eval_chunk_single(context, llamaContext, chunk, nPast, seq, batchSize, false, ptr(this.#nPast))
    return { code, nPast: this.#nPast[0]! }
  }

  free(context: Pointer): void {
    this.lib.symbols.mtmd_free(context)
  }
}
