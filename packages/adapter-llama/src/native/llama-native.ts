import { compileShim, cstr, functionAddress as fn, type Calls } from '@cy/native'
import { dlopen, ptr, toArrayBuffer, CString, type Pointer } from 'bun:ffi'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { GGML_SYMBOLS, LLAMA_SYMBOLS, SHIM_SYMBOLS } from './llama-symbols.ts'

const SHIM_SOURCE = join(import.meta.dir, 'llama-shim.c')
const HEADERS = join(import.meta.dir, '..', '..', 'vendor', 'llama.cpp', 'include')

/** The shared library in `dir` whose name starts with `stem` ("libllama" matches libllama.so and libllama.v0.5.0.so). */
export function findLibrary(dir: string, stem: string): string | undefined {
  const extension = process.platform === 'darwin' ? '.dylib' : process.platform === 'win32' ? '.dll' : '.so'
  const names = readdirSync(dir).filter((name) => name.startsWith(stem) && name.endsWith(extension))
  // The bare name first (libllama.so), then versioned ones; never a sibling such as libllama-common.
  return names.filter((name) => name === `${stem}${extension}` || name.startsWith(`${stem}.`)).sort((a, b) => a.length - b.length)[0]
}

export type Pooling = 'model' | 'none' | 'mean' | 'cls' | 'last'
const POOLING: Record<Pooling, number> = { model: -1, none: 0, mean: 1, cls: 2, last: 3 }

export interface ContextOptions {
  contextSize: number
  batchSize: number
  sequences: number
  threads: number
  embeddings: boolean
  pooling: Pooling
  flashAttention: 'auto' | 'on' | 'off'
}

const FLASH: Record<ContextOptions['flashAttention'], number> = { auto: -1, off: 0, on: 1 }

/**
 * The typed wrapper over llama.cpp: every pointer, buffer and string conversion lives here, so the
 * engine above speaks in numbers, strings and typed arrays. One instance per thread (it is not shared).
 */
export class LlamaNative {
  readonly lib
  /** llama.cpp's functions, with pointer results typed as pointers. */
  readonly calls: Calls<ReturnType<typeof dlopen<typeof LLAMA_SYMBOLS>>['symbols']>
  readonly shim: ReturnType<typeof compileShim<typeof SHIM_SYMBOLS>>
  readonly ggml
  readonly devices: string[]

  constructor(readonly libDir: string) {
    const ggmlFile = findLibrary(libDir, 'libggml')
    const llamaFile = findLibrary(libDir, 'libllama')
    if (!ggmlFile || !llamaFile) throw new Error(`No libllama/libggml shared libraries in ${libDir}`)
    this.ggml = dlopen(join(libDir, ggmlFile), GGML_SYMBOLS)
    this.lib = dlopen(join(libDir, llamaFile), LLAMA_SYMBOLS)
    this.shim = compileShim(SHIM_SOURCE, [HEADERS], SHIM_SYMBOLS)
    // Quiet first, so loading the backends does not print a line per library.
    this.shim.symbols.cy_quiet_logs(fn(this.lib.symbols.llama_log_set))
    this.ggml.symbols.ggml_backend_load_all_from_path(cstr(libDir))
    this.calls = this.lib.symbols as unknown as typeof this.calls
    this.lib.symbols.llama_backend_init()
    const count = Number(this.ggml.symbols.ggml_backend_dev_count())
    this.devices = Array.from({ length: count }, (_, i) => String(this.ggml.symbols.ggml_backend_dev_name(this.ggml.symbols.ggml_backend_dev_get(i))))
  }

  systemInfo(): string {
    return String(this.lib.symbols.llama_print_system_info())
  }

  loadModel(path: string, gpuLayers: number): Pointer | null {
    const s = this.lib.symbols
    return this.shim.symbols.cy_model_load(fn(s.llama_model_default_params), fn(s.llama_model_load_from_file), cstr(path), gpuLayers, 0)
  }

  /** The threadpool attached to each context made here, freed with it. */
  readonly #threadpools = new Map<Pointer, Pointer>()

  newContext(model: Pointer, options: ContextOptions): Pointer | null {
    const s = this.lib.symbols
    const context = this.shim.symbols.cy_context_new(
      fn(s.llama_context_default_params),
      fn(s.llama_init_from_model),
      model,
      options.contextSize,
      options.batchSize,
      options.sequences,
      options.threads,
      options.embeddings ? 1 : 0,
      POOLING[options.pooling],
      FLASH[options.flashAttention],
    )
    if (context && options.threads > 1) this.#attachThreadpool(context, options.threads)
    return context
  }

  /** Frees a context from `newContext`, then its threadpool. */
  freeContext(context: Pointer): void {
    this.lib.symbols.llama_free(context)
    const threadpool = this.#threadpools.get(context)
    if (!threadpool) return
    this.#threadpools.delete(context)
    this.shim.symbols.cy_threadpool_free(this.#cpuProc('ggml_threadpool_free'), threadpool)
  }

  /**
   * One threadpool for the context's life, its threads asleep between decodes (poll 0): without it ggml
   * starts and joins threads on every llama_decode, and its default polling spins them between tokens,
   * CPU the Worker's own thread and other processes then lack. Left to ggml when the CPU backend lacks it.
   */
  #attachThreadpool(context: Pointer, threads: number): void {
    const create = this.#cpuProc('ggml_threadpool_new')
    if (!create || !this.#cpuProc('ggml_threadpool_free')) return
    const threadpool = this.shim.symbols.cy_threadpool_new(fn(this.ggml.symbols.ggml_threadpool_params_init), create, threads, 0)
    if (!threadpool) return
    this.lib.symbols.llama_attach_threadpool(context, threadpool, threadpool)
    this.#threadpools.set(context, threadpool)
  }

  /** A function the CPU backend exports by name (its threadpool lives there, not in libggml). */
  #cpuProc(name: string): Pointer | null {
    const g = this.ggml.symbols
    const device = g.ggml_backend_dev_by_type(0)
    const registry = device ? g.ggml_backend_dev_backend_reg(device) : null
    return registry ? (g.ggml_backend_reg_get_proc_address(registry, cstr(name)) as Pointer | null) : null
  }

  /** Decodes one token per entry; `logits[i]` = 1 asks for that entry's output. Returns llama_decode's code. */
  decode(context: Pointer, tokens: Int32Array, positions: Int32Array, sequences: Int32Array, logits: Int8Array, count: number): number {
    return this.shim.symbols.cy_decode(fn(this.lib.symbols.llama_decode), context, count, ptr(tokens), ptr(positions), ptr(sequences), ptr(logits))
  }

  vocab(model: Pointer): Pointer {
    return this.calls.llama_model_get_vocab(model)!
  }

  tokenize(vocab: Pointer, text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array {
    const bytes = new TextEncoder().encode(text)
    const input = bytes.length > 0 ? bytes : new Uint8Array(1)
    let out = new Int32Array(bytes.length + 8)
    let count = this.lib.symbols.llama_tokenize(vocab, ptr(input), bytes.length, ptr(out), out.length, addSpecial, parseSpecial)
    if (count < 0) {
      out = new Int32Array(-count)
      count = this.lib.symbols.llama_tokenize(vocab, ptr(input), bytes.length, ptr(out), out.length, addSpecial, parseSpecial)
    }
    if (count < 0) throw new Error('llama_tokenize failed')
    return out.slice(0, count)
  }

  readonly #piece = new Uint8Array(256)

  /** The bytes of one token's text (not necessarily whole UTF-8 characters). */
  tokenBytes(vocab: Pointer, token: number, special: boolean): Uint8Array {
    let buffer = this.#piece
    let length = this.lib.symbols.llama_token_to_piece(vocab, token, ptr(buffer), buffer.length, 0, special)
    if (length < 0) {
      buffer = new Uint8Array(-length)
      length = this.lib.symbols.llama_token_to_piece(vocab, token, ptr(buffer), buffer.length, 0, special)
    }
    return buffer.slice(0, Math.max(0, length))
  }

  metaString(model: Pointer, key: string): string | undefined {
    const buffer = new Uint8Array(256)
    const length = this.lib.symbols.llama_model_meta_val_str(model, cstr(key), ptr(buffer), buffer.length)
    if (length < 0) return undefined
    if (length < buffer.length) return new TextDecoder().decode(buffer.subarray(0, length))
    const big = new Uint8Array(length + 1)
    this.lib.symbols.llama_model_meta_val_str(model, cstr(key), ptr(big), big.length)
    return new TextDecoder().decode(big.subarray(0, length))
  }

  chatTemplate(model: Pointer): string | undefined {
    const pointer = this.calls.llama_model_chat_template(model, null)
    return pointer ? new CString(pointer).toString() : undefined
  }

  /** llama.cpp's built-in chat templates (matched by name or by the template's text), without Jinja. */
  applyChatTemplate(template: string, messages: Array<{ role: string; content: string }>, addAssistant: boolean): string {
    // struct llama_chat_message { const char * role; const char * content; }: keep the strings alive across the call.
    const strings = messages.flatMap((message) => [cstr(message.role), cstr(message.content)])
    const table = new BigUint64Array(strings.length)
    strings.forEach((bytes, i) => (table[i] = BigInt(ptr(bytes))))
    let buffer = new Uint8Array(4096)
    let length = this.lib.symbols.llama_chat_apply_template(cstr(template), ptr(table), messages.length, addAssistant, ptr(buffer), buffer.length)
    if (length > buffer.length) {
      buffer = new Uint8Array(length)
      length = this.lib.symbols.llama_chat_apply_template(cstr(template), ptr(table), messages.length, addAssistant, ptr(buffer), buffer.length)
    }
    if (length < 0) throw new Error(`llama.cpp has no built-in chat template matching this model's`)
    return new TextDecoder().decode(buffer.subarray(0, length))
  }

  describe(model: Pointer): string {
    const buffer = new Uint8Array(256)
    const length = this.lib.symbols.llama_model_desc(model, ptr(buffer), buffer.length)
    return new TextDecoder().decode(buffer.subarray(0, Math.max(0, Math.min(length, buffer.length))))
  }

  /** A copy of `count` floats at `pointer`. */
  floats(pointer: Pointer, count: number): Float32Array {
    return new Float32Array(toArrayBuffer(pointer, 0, count * 4).slice(0))
  }

  /** A LoRA adapter GGUF for `model` (checked against its architecture and shapes), or null when llama.cpp refuses it. */
  loadLora(model: Pointer, path: string): Pointer | null {
    return this.calls.llama_adapter_lora_init(model, cstr(path))
  }

  freeLora(adapter: Pointer): void {
    this.lib.symbols.llama_adapter_lora_free(adapter)
  }

  /** The context's adapters from now on (none: an empty list); llama.cpp changes nothing when they are the same. */
  setLoras(context: Pointer, adapters: Array<{ adapter: Pointer; scale: number }>): number {
    const table = new BigUint64Array(Math.max(1, adapters.length))
    const scales = new Float32Array(Math.max(1, adapters.length))
    adapters.forEach(({ adapter, scale }, i) => {
      table[i] = BigInt(adapter)
      scales[i] = scale
    })
    return this.lib.symbols.llama_set_adapters_lora(context, adapters.length ? ptr(table) : null, adapters.length, adapters.length ? ptr(scales) : null)
  }

  /** A sampler chain from its parts, in order; the chain owns them. */
  samplerChain(parts: Array<Pointer | null>): Pointer {
    const chain = this.shim.symbols.cy_sampler_chain_new(fn(this.lib.symbols.llama_sampler_chain_init))!
    for (const part of parts) if (part) this.lib.symbols.llama_sampler_chain_add(chain, part)
    return chain
  }
}
