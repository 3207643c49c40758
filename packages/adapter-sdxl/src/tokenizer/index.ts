export { ClipMergesError } from './clip-merges-error.ts'
export { CLIP_MERGES_LINES, readClipMerges } from './clip-merges.ts'
export { CLIP_BOS_TOKEN_ID, CLIP_CHUNK_TOKENS, CLIP_EOS_TOKEN_ID, ClipTokenizer, loadClipTokenizer } from './clip-tokenizer.ts'
export { parsePromptAttention, type AttentionSegment } from './prompt-attention.ts'
