/** What `org/repo:TAG` names in a repository of GGUF files, as llama-server's `-hf` picks them. */
export interface GgufPick {
  model: string
  /** The other shards of a split GGUF (`-00002-of-00003.gguf`...), which llama.cpp reads beside the first. */
  shards?: string[]
  /** A vision projector in the same repository, when there is one. */
  mmproj?: string
}

/** llama-server's default quant when the tag is left out. */
export const DEFAULT_QUANT = 'Q4_K_M'

const isGguf = (path: string) => path.toLowerCase().endsWith('.gguf')
const isProjector = (path: string) => /(^|\/)mmproj[^/]*\.gguf$/i.test(path)
/** A later shard of a split GGUF (`-00002-of-00003.gguf`): the first shard names the model. */
const isLaterShard = (path: string) => /-(?!00001-)\d{5}-of-\d{5}\.gguf$/i.test(path)
const SHARD = /-\d{5}-of-(\d{5})\.gguf$/i

/** The quant written as a file-name part (`Q4_K_M` matches `model-q4_k_m.gguf`, not `model-q4_k_m_l.gguf`). */
function matchesTag(path: string, tag: string): boolean {
  const name = path.split('/').at(-1)!.toLowerCase()
  const escaped = tag.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`(^|[-_.])${escaped}([-_.]|$)`).test(name.replace(/-\d{5}-of-\d{5}(?=\.gguf$)/, ''))
}

/**
 * The model file for `tag` (a quant such as Q4_K_M, or a whole file name) and the repository's projector:
 * a full file name is taken as it is; otherwise the GGUF whose name carries the quant, the default Q4_K_M
 * when no tag is given and, failing that, the only GGUF there. Undefined when nothing matches.
 */
export function pickGguf(files: readonly string[], tag?: string): GgufPick | undefined {
  const models = files.filter((path) => isGguf(path) && !isProjector(path) && !isLaterShard(path)).sort()
  let model: string | undefined
  if (tag && files.includes(tag)) model = tag
  else if (tag) model = models.find((path) => matchesTag(path, tag))
  else model = models.find((path) => matchesTag(path, DEFAULT_QUANT)) ?? (models.length === 1 ? models[0] : undefined)
  if (!model) return undefined
  const projectors = files.filter(isProjector).sort()
  // One projector serves every quant of the model; prefer f16 (what llama-server's manifests name), then q8_0.
  const mmproj = projectors.find((path) => /f16/i.test(path)) ?? projectors.find((path) => /q8_0/i.test(path)) ?? projectors[0]
  const count = SHARD.exec(model)?.[1]
  const stem = count ? model.replace(SHARD, '') : undefined
  const shards = stem ? files.filter((path) => path !== model && path.startsWith(stem) && SHARD.exec(path)?.[1] === count).sort() : []
  return { model, ...(shards.length ? { shards } : {}), ...(mmproj ? { mmproj } : {}) }
}
