import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { detectCheckpoint, readTensorIndex, type CheckpointDetection } from '../../packages/adapter-sdxl/src/checkpoint/index.ts'

// Small synthetic model files: the names sd.cpp keys on, with tiny shapes where it reads no shape, and the
// exact dimension where it does (the token embedding's width, the UNet input conv's channels). The data is
// zeros of the declared size, so the same files load in stable-diffusion.cpp's own ModelLoader: its
// get_sd_version gave the version named in each case (checked with a harness linked to libstable-diffusion),
// and failed on every unreadable one. Two it names a version for but then cannot load (a lone CLIP-L, which it
// takes for SDXS; diffusers-named SDXL, which it takes for SD 1.x) are refused here, with the reason.
type Spec = Array<[name: string, shape: number[]]>

const dir = mkdtempSync(join(tmpdir(), 'cy-checkpoint-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let fileCount = 0
const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1)
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

function le(bytes: number, value: number | bigint): Uint8Array {
  const out = new Uint8Array(bytes)
  const view = new DataView(out.buffer)
  if (bytes === 2) view.setUint16(0, Number(value), true)
  else if (bytes === 4) view.setUint32(0, Number(value), true)
  else view.setBigUint64(0, BigInt(value), true)
  return out
}

function file(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, `${fileCount++}-${name}`)
  writeFileSync(path, bytes)
  return path
}

function safetensors(name: string, spec: Spec, metadata?: Record<string, string>): string {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {}
  let offset = 0
  for (const [tensor, shape] of spec) {
    header[tensor] = { dtype: 'F16', shape, data_offsets: [offset, offset + numel(shape) * 2] }
    offset += numel(shape) * 2
  }
  const json = utf8(JSON.stringify(header))
  return file(name, concat([le(8, json.length), json, new Uint8Array(offset)]))
}

const ggufString = (text: string): Uint8Array => concat([le(8, utf8(text).length), utf8(text)])

function gguf(name: string, spec: Spec, strings: Record<string, string> = {}): string {
  const parts = [utf8('GGUF'), le(4, 3), le(8, spec.length), le(8, Object.keys(strings).length)]
  for (const [key, value] of Object.entries(strings)) parts.push(ggufString(key), le(4, 8), ggufString(value))
  let offset = 0
  for (const [tensor, shape] of spec) {
    // ggml order (innermost first), type F16 (1), offsets aligned to 32.
    parts.push(ggufString(tensor), le(4, shape.length), ...[...shape].reverse().map((d) => le(8, d)), le(4, 1), le(8, offset))
    offset += Math.ceil((numel(shape) * 2) / 32) * 32
  }
  const head = concat(parts)
  return file(name, concat([head, new Uint8Array(Math.ceil(head.length / 32) * 32 - head.length), new Uint8Array(offset)]))
}

// A protocol-2 pickle as torch.save writes it: {'state_dict': OrderedDict(name -> _rebuild_tensor_v2(...))}.
function torchPickle(spec: Spec): Uint8Array {
  const op = (code: number): Uint8Array => new Uint8Array([code])
  const str = (text: string): Uint8Array => concat([op(0x58), le(4, utf8(text).length), utf8(text)])
  const int = (value: number): Uint8Array => concat([op(0x4a), le(4, value)])
  const global = (module: string, name: string): Uint8Array => concat([op(0x63), utf8(`${module}\n${name}\n`)])
  const tuple = (items: Uint8Array[]): Uint8Array => concat([op(0x28), ...items, op(0x74)])
  const orderedDict = concat([global('collections', 'OrderedDict'), op(0x29), op(0x52)])
  const items = spec.map(([name, shape], key) => {
    const strides = shape.map((_, i) => numel(shape.slice(i + 1)))
    const storage = concat([tuple([str('storage'), global('torch', 'HalfStorage'), str(String(key)), str('cpu'), int(numel(shape))]), op(0x51)])
    const args = tuple([storage, int(0), tuple(shape.map(int)), tuple(strides.map(int)), op(0x89), orderedDict])
    return concat([str(name), global('torch._utils', '_rebuild_tensor_v2'), args, op(0x52)])
  })
  return concat([op(0x80), op(2), op(0x7d), op(0x28), str('state_dict'), orderedDict, op(0x28), ...items, op(0x75), op(0x75), op(0x2e)])
}

// A stored (uncompressed) zip, as torch.save writes: archive/data.pkl plus one storage entry per tensor.
// With zip64 (as for checkpoints past 4 GiB) sizes and offsets move to the extra field and the zip64 end records.
function zip(name: string, entries: Array<[string, Uint8Array]>, zip64 = false): string {
  const locals: Uint8Array[] = []
  const centrals: Uint8Array[] = []
  let offset = 0
  for (const [entry, data] of entries) {
    const crc = Bun.hash.crc32(data)
    const head = (size: number): Uint8Array => concat([le(2, 0), le(2, 0), le(2, 0), le(2, 0), le(4, crc), le(4, size), le(4, size), le(2, utf8(entry).length)])
    const local = concat([le(4, 0x04034b50), le(2, 20), head(data.length), le(2, 0), utf8(entry), data])
    const extra = zip64 ? concat([le(2, 1), le(2, 24), le(8, data.length), le(8, data.length), le(8, offset)]) : new Uint8Array(0)
    const tail = concat([le(2, 0), le(2, 0), le(2, 0), le(4, 0), le(4, zip64 ? 0xffffffff : offset)])
    centrals.push(concat([le(4, 0x02014b50), le(2, 45), le(2, 45), head(zip64 ? 0xffffffff : data.length), le(2, extra.length), tail, utf8(entry), extra]))
    locals.push(local)
    offset += local.length
  }
  const directory = concat(centrals)
  const records: Uint8Array[] = []
  if (zip64) {
    const at = offset + directory.length
    records.push(concat([le(4, 0x06064b50), le(8, 44), le(2, 45), le(2, 45), le(4, 0), le(4, 0), le(8, entries.length), le(8, entries.length), le(8, directory.length), le(8, offset)]))
    records.push(concat([le(4, 0x07064b50), le(4, 0), le(8, at), le(4, 1)]))
  }
  const count = zip64 ? 0xffff : entries.length
  records.push(concat([le(4, 0x06054b50), le(2, 0), le(2, 0), le(2, count), le(2, count), le(4, zip64 ? 0xffffffff : directory.length), le(4, zip64 ? 0xffffffff : offset), le(2, 0)]))
  return file(name, concat([...locals, directory, ...records]))
}

// torch.save's legacy layout: pickles of the magic number, protocol 1001, sys_info, the state dict, the storage
// keys, then the storages.
function legacyTorch(name: string, spec: Spec): string {
  const magic = new Uint8Array([0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e])
  const protocol = new Uint8Array([0x80, 2, 0x4d, 0xe9, 0x03, 0x2e])
  const sysInfo = new Uint8Array([0x80, 2, 0x7d, 0x2e])
  const keys = new Uint8Array([0x80, 2, 0x5d, 0x2e])
  const storages = new Uint8Array(spec.reduce((n, [, shape]) => n + 8 + numel(shape) * 2, 0)) // an 8-byte header each
  return file(name, concat([magic, protocol, sysInfo, torchPickle(spec), keys, storages]))
}

function ckpt(name: string, spec: Spec, zip64 = false): string {
  const storages = spec.map(([, shape], key): [string, Uint8Array] => [`archive/data/${key}`, new Uint8Array(numel(shape) * 2)])
  return zip(name, [['archive/data.pkl', torchPickle(spec)], ...storages], zip64)
}

// The tensors that steer detection, per family (shapes outermost first, as PyTorch writes them).
const UNET_IN = 'model.diffusion_model.input_blocks.0.0.weight'
const MIDDLE_1 = ['model.diffusion_model.middle_block.1.proj_in.weight', [8, 8]] as [string, number[]]
const OUT_71 = ['model.diffusion_model.output_blocks.7.1.proj_in.weight', [8, 8]] as [string, number[]]
const OUT_311 = ['model.diffusion_model.output_blocks.3.1.transformer_blocks.1.attn1.to_k.weight', [8, 8]] as [string, number[]]
const VAE = ['first_stage_model.decoder.conv_in.weight', [8, 4, 3, 3]] as [string, number[]]
const unetIn = (channels: number): [string, number[]] => [UNET_IN, [32, channels, 3, 3]]
const CLIP_L = ['cond_stage_model.transformer.text_model.embeddings.token_embedding.weight', [4, 768]] as [string, number[]]
const CLIP_H = ['cond_stage_model.model.token_embedding.weight', [4, 1024]] as [string, number[]]
const SDXL_CLIP_L = ['conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight', [4, 768]] as [string, number[]]
const SDXL_CLIP_G = ['conditioner.embedders.1.model.token_embedding.weight', [4, 1280]] as [string, number[]]

const sd1 = (inChannels = 4, extra: Spec = [MIDDLE_1, OUT_71]): Spec => [unetIn(inChannels), ...extra, CLIP_L, VAE]
const sd2 = (inChannels = 4, extra: Spec = [MIDDLE_1, OUT_71]): Spec => [unetIn(inChannels), ...extra, CLIP_H, VAE]
const sdxl = (inChannels = 4, extra: Spec = [MIDDLE_1, OUT_311]): Spec => [unetIn(inChannels), ...extra, SDXL_CLIP_L, SDXL_CLIP_G, VAE]

function claimed(detection: CheckpointDetection): Extract<CheckpointDetection, { claim: true }> {
  if (!detection.claim) throw new Error(`not claimed: ${detection.reason}`)
  return detection
}

async function reason(path: string): Promise<string> {
  const detection = await detectCheckpoint(path)
  if (detection.claim) throw new Error(`claimed as ${detection.version}`)
  return detection.reason
}

describe('detectCheckpoint: the families stable-diffusion.cpp serves', () => {
  test('SD 1.x: base, inpaint (9 input channels), pix2pix (8), tiny UNet, SDXS', async () => {
    const base = claimed(await detectCheckpoint(safetensors('v1-5.safetensors', sd1())))
    expect(base).toEqual({
      claim: true,
      family: 'sd1',
      variant: 'base',
      version: 'VERSION_SD1',
      components: ['unet', 'clip-l', 'vae'],
      format: 'safetensors',
      unetInChannels: 4,
      modelChannels: 32,
      distilled: null,
    })
    expect(claimed(await detectCheckpoint(safetensors('inpaint.safetensors', sd1(9)))).variant).toBe('inpaint')
    expect(claimed(await detectCheckpoint(safetensors('ip2p.safetensors', sd1(8)))).version).toBe('VERSION_SD1_PIX2PIX')
    expect(claimed(await detectCheckpoint(safetensors('tiny.safetensors', sd1(4, [OUT_71])))).version).toBe('VERSION_SD1_TINY_UNET')
    expect(claimed(await detectCheckpoint(safetensors('sdxs.safetensors', sd1(4, [])))).version).toBe('VERSION_SDXS_512_DS')
  })

  test('SD 2.x: the OpenCLIP-H token embedding is 1024 wide; inpaint, tiny, SDXS-09', async () => {
    const base = claimed(await detectCheckpoint(safetensors('v2-1.safetensors', sd2())))
    expect([base.family, base.variant, base.version, base.components]).toEqual(['sd2', 'base', 'VERSION_SD2', ['unet', 'clip-h', 'vae']])
    expect(claimed(await detectCheckpoint(safetensors('v2-inpaint.safetensors', sd2(9)))).version).toBe('VERSION_SD2_INPAINT')
    expect(claimed(await detectCheckpoint(safetensors('v2-tiny.safetensors', sd2(4, [OUT_71])))).version).toBe('VERSION_SD2_TINY_UNET')
    const sdxs09: Spec = [['model.diffusion_model.output_blocks.7.1.transformer_blocks.0.attn1.to_k.weight', [8, 1024]]]
    expect(claimed(await detectCheckpoint(safetensors('sdxs-09.safetensors', sd2(4, sdxs09)))).version).toBe('VERSION_SDXS_09')
  })

  test('SDXL: a second text encoder beside the UNet; Turbo by name; SSD-1B and Vega lack middle_block.1', async () => {
    const turbo = claimed(await detectCheckpoint(safetensors('sd_xl_turbo_1.0_fp16.safetensors', sdxl())))
    expect(turbo).toMatchObject({ family: 'sdxl', variant: 'base', version: 'VERSION_SDXL', components: ['unet', 'clip-l', 'clip-g', 'vae'], distilled: 'turbo' })
    const lightning = claimed(await detectCheckpoint(safetensors('model.safetensors', sdxl(), { 'modelspec.title': 'SDXL-Lightning 4-step' })))
    expect(lightning.distilled).toBe('lightning')
    expect(claimed(await detectCheckpoint(safetensors('ssd-1b.safetensors', sdxl(4, [OUT_311])))).variant).toBe('ssd-1b')
    expect(claimed(await detectCheckpoint(safetensors('vega.safetensors', sdxl(4, [])))).variant).toBe('vega')
    expect(claimed(await detectCheckpoint(safetensors('xl-inpaint.safetensors', sdxl(9)))).version).toBe('VERSION_SDXL_INPAINT')
    expect(claimed(await detectCheckpoint(safetensors('xl-ip2p.safetensors', sdxl(8)))).version).toBe('VERSION_SDXL_PIX2PIX')
  })

  test('GGUF with sd.cpp canonical names, and a torch .ckpt, read without loading', async () => {
    const canonical: Spec = [
      unetIn(4),
      MIDDLE_1,
      ['cond_stage_model.transformer.text_model.embeddings.token_embedding.weight', [4, 768]],
      ['cond_stage_model.1.transformer.text_model.embeddings.token_embedding.weight', [4, 1280]],
      ['tae.decoder.layers.0.weight', [8, 4, 3, 3]],
    ]
    const xl = claimed(await detectCheckpoint(gguf('tiny-sdxl.gguf', canonical)))
    expect([xl.format, xl.family, xl.variant, xl.components]).toEqual(['gguf', 'sdxl', 'base', ['unet', 'clip-l', 'clip-g', 'taesd']])
    const index = await readTensorIndex(gguf('shapes.gguf', sd1()))
    expect(index.tensors.find((t) => t.name === UNET_IN)).toEqual({ name: UNET_IN, shape: [32, 4, 3, 3], dtype: '1' })
    const fromCkpt = claimed(await detectCheckpoint(ckpt('v1-5-pruned.ckpt', sd1(9))))
    expect([fromCkpt.format, fromCkpt.version, fromCkpt.unetInChannels]).toEqual(['ckpt', 'VERSION_SD1_INPAINT', 9])
    expect((await readTensorIndex(ckpt('shapes.ckpt', sd1()))).tensors.map((t) => [t.name, t.shape])).toEqual(sd1())
    expect(claimed(await detectCheckpoint(ckpt('sd_xl_base_1.0.ckpt', sdxl(), true))).version).toBe('VERSION_SDXL')
    expect(claimed(await detectCheckpoint(legacyTorch('sd-v1-4-legacy.ckpt', sd2(8)))).version).toBe('VERSION_SD2')
  })

  test('diffusers-style names: SD 1.x is claimed; SDXL (te.1.*) is refused, as sd.cpp misreads it after renaming', async () => {
    const spec: Spec = [
      ['unet.conv_in.weight', [320, 4, 3, 3]],
      ['unet.down_blocks.0.resnets.0.conv1.weight', [8, 8, 3, 3]],
      ['unet.mid_block.attentions.0.proj_in.weight', [8, 8]],
      ['unet.mid_block.resnets.1.conv1.weight', [8, 8, 3, 3]],
      ['unet.up_blocks.2.attentions.1.proj_in.weight', [8, 8]],
      ['te.text_model.embeddings.token_embedding.weight', [4, 768]],
    ]
    const v1 = claimed(await detectCheckpoint(safetensors('diffusers-v1.safetensors', spec)))
    expect([v1.family, v1.variant, v1.modelChannels, v1.components]).toEqual(['sd1', 'base', 320, ['unet', 'clip-l']])
    const xl: Spec = [...spec, ['te.1.text_model.embeddings.token_embedding.weight', [4, 1280]]]
    expect(await reason(safetensors('diffusers-xl.safetensors', xl))).toMatch(/diffusers-style SDXL names \(te\.1\.\*\)/)
  })
})

describe('detectCheckpoint: files that are not checkpoints say why', () => {
  test('LoRAs in kohya, diffusers (peft) and LyCORIS naming', async () => {
    const kohya: Spec = [
      ['lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight', [4, 320]],
      ['lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight', [320, 4]],
      ['lora_te_text_model_encoder_layers_0_mlp_fc1.alpha', []],
    ]
    expect(await reason(safetensors('kohya-lora.safetensors', kohya))).toMatch(/a LoRA.*lorasDir/)
    const peft: Spec = [['unet.down_blocks.0.attentions.0.proj_in.lora_A.weight', [4, 320]], ['unet.down_blocks.0.attentions.0.proj_in.lora_B.weight', [320, 4]]]
    expect(await reason(safetensors('peft-lora.safetensors', peft))).toMatch(/a LoRA/)
    const lycoris: Spec = [['lora_unet_mid_block_attentions_0_proj_in.hada_w1_a', [320, 4]]]
    expect(await reason(safetensors('loha.safetensors', lycoris))).toMatch(/a LoRA/)
  })

  test('a standalone VAE, a TAESD, a text encoder, a UNet without text encoder', async () => {
    const vae: Spec = [['encoder.conv_in.weight', [128, 3, 3, 3]], ['decoder.conv_in.weight', [512, 4, 3, 3]], ['quant_conv.weight', [8, 8, 1, 1]], ['post_quant_conv.weight', [4, 4, 1, 1]]]
    expect(await reason(safetensors('vae-ft-mse.safetensors', vae))).toMatch(/standalone VAE.*`vae`/)
    const taesd: Spec = [['decoder.layers.0.weight', [64, 4, 3, 3]], ['encoder.layers.0.weight', [64, 3, 3, 3]]]
    expect(await reason(safetensors('taesd.safetensors', taesd))).toMatch(/standalone TAESD.*`taesd`/)
    expect(await reason(safetensors('clip-l.safetensors', [['text_model.embeddings.token_embedding.weight', [4, 768]]]))).toMatch(/text encoder.*`clipL`/)
    expect(await reason(safetensors('unet-only.safetensors', [unetIn(4), MIDDLE_1]))).toMatch(/UNet without its text encoder.*`diffusionModel`/)
  })

  test('a llama GGUF, and DiTs this build cannot tokenize for (Flux, SD3, Wan)', async () => {
    expect(await reason(gguf('qwen.gguf', [['token_embd.weight', [4, 8]]], { 'general.architecture': 'qwen2' }))).toMatch(/'qwen2' GGUF/)
    const flux: Spec = [['model.diffusion_model.double_blocks.0.img_attn.qkv.weight', [8, 8]], ['model.diffusion_model.img_in.weight', [8, 64]]]
    expect(await reason(gguf('flux1-dev-Q4_0.gguf', flux, { 'general.architecture': 'flux' }))).toMatch(/flux DiT model: it needs T5\/LLM tokenizers/)
    expect(await reason(safetensors('sd3.safetensors', [['model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight', [8, 8]]]))).toMatch(/sd3 DiT/)
    expect(await reason(safetensors('wan.safetensors', [['model.diffusion_model.blocks.0.cross_attn.norm_k.weight', [8]]]))).toMatch(/wan2 DiT/)
  })

  test('garbage, truncated files, oversize headers and counts: a clear reason, never a throw', async () => {
    let seed = 7
    const noise = new Uint8Array(4096).map(() => (seed = (seed * 1103515245 + 12345) % 2147483648) & 0xff)
    noise[0] = 0x41 // not a GGUF, zip or pickle start: read as safetensors, whose header is then garbage
    expect(await reason(file('noise.safetensors', noise))).toMatch(/^not a readable model file: safetensors header/)
    expect(await reason(file('empty.safetensors', new Uint8Array(0)))).toMatch(/only 0 bytes/)
    expect(await reason(file('oversize.safetensors', concat([le(8, 2n ** 40n), utf8('{}')])))).toMatch(/over the 104857600-byte cap/)
    expect(await reason(file('short.safetensors', concat([le(8, 1000), utf8('{"a":')])))).toMatch(/does not fit the file/)
    expect(await reason(file('not-json.safetensors', concat([le(8, 6), utf8('{"a":}')])))).toMatch(/not valid JSON/)
    const badOffsets = utf8(JSON.stringify({ w: { dtype: 'F16', shape: [4], data_offsets: [0, 8000] } }))
    expect(await reason(file('offsets.safetensors', concat([le(8, badOffsets.length), badOffsets])))).toMatch(/data offsets outside the file/)
    const whole = await Bun.file(gguf('whole.gguf', sd1())).bytes()
    expect(await reason(file('truncated.gguf', whole.subarray(0, 100)))).toMatch(/truncated file/)
    expect(await reason(file('count.gguf', concat([utf8('GGUF'), le(4, 3), le(8, 2n ** 60n), le(8, 0)])))).toMatch(/tensor count \d+ is over the cap/)
    expect(await reason(file('v1.gguf', concat([utf8('GGUF'), le(4, 1), le(8, 0), le(8, 0)])))).toMatch(/GGUF version 1 is not supported/)
    const longName = concat([utf8('GGUF'), le(4, 3), le(8, 1), le(8, 0), le(8, 2n ** 40n)])
    expect(await reason(file('name.gguf', longName))).toMatch(/length of tensor name \d+ is over the cap/)
    expect(await reason(zip('weights.zip', [['readme.txt', utf8('hello')]]))).toMatch(/without a data.pkl/)
    const badPickle = zip('bad.ckpt', [['archive/data.pkl', new Uint8Array([0x80, 2, 0x7d, 0xff])]])
    expect(await reason(badPickle)).toMatch(/opcode 0xff/)
    expect(await reason(file('cut.pt', new Uint8Array([0x80, 2, 0x8a, 0x0a])))).toMatch(/truncated torch pickle/)
    expect(await reason(file('pickle.pkl', new Uint8Array([0x80, 2, 0x4b, 7, 0x2e])))).toMatch(/not a torch file/)
    expect(await reason(join(dir, 'absent.safetensors'))).toMatch(/not a readable model file: .*ENOENT/)
    expect(await reason(dir)).toMatch(/not a readable model file/)
  })
})
