/** A span of samples [start, end). */
export interface SampleSpan {
  start: number
  end: number
}

export interface SilenceSplitOptions {
  /** No segment is longer than this (SenseVoice was trained on ≤ 30 s). */
  maxSegmentSeconds?: number
  /** A quiet stretch at least this long separates two segments. */
  minSilenceMs?: number
  /** A frame is sound when it is this much louder than the local noise floor (less where the audio's range is small). */
  floorMarginDb?: number
  /** Frames below this level are always silence. */
  absoluteSilenceDb?: number
  /** Kept around each stretch of speech so onsets and decays are not clipped (never more than half the pause). */
  padMs?: number
  /** Segments shorter than this are dropped: too short for a frame of the model, and only clicks. */
  minSegmentMs?: number
}

const FRAME_MS = 10
const BLOCK_FRAMES = 300
const MIN_RANGE_DB = 6

/**
 * Splits audio into the stretches that hold sound, each at most maxSegmentSeconds long, in samples.
 *
 * The heuristic: frame RMS in dBFS over 10 ms frames; a noise floor per 3 s block (its 10th percentile, taking the
 * lowest of the block and its neighbours, so it adapts to a recording whose noise level drifts) and a local peak
 * (the loudest of the same blocks). A frame is sound when it is above floor + min(floorMarginDb, (peak − floor) / 3);
 * where the floor is within 6 dB of the peak there is no pause to find (a tone, music, dense speech) and every frame
 * above absoluteSilenceDb is sound; a frame below absoluteSilenceDb is always silence. Runs of non-speech of at least minSilenceMs split the
 * audio; each stretch keeps padMs around its sound; the leading and trailing silence is dropped. A stretch longer
 * than the maximum is cut at the quietest 100 ms in the last half of the allowed length, repeatedly, so no segment
 * exceeds it even without a pause. Segments under minSegmentMs are dropped.
 */
export function splitAtSilences(samples: Float32Array, sampleRate: number, options: SilenceSplitOptions = {}): SampleSpan[] {
  const maxSegmentSeconds = options.maxSegmentSeconds ?? 30
  const minSilenceMs = options.minSilenceMs ?? 300
  const floorMarginDb = options.floorMarginDb ?? 12
  const absoluteSilenceDb = options.absoluteSilenceDb ?? -60
  const padMs = options.padMs ?? 100
  const minSegment = Math.round(((options.minSegmentMs ?? 25) * sampleRate) / 1000)
  if (!(sampleRate > 0) || !(maxSegmentSeconds > 0)) throw new RangeError('sampleRate and maxSegmentSeconds must be positive')

  const hop = Math.max(1, Math.round((sampleRate * FRAME_MS) / 1000))
  const level = frameLevels(samples, hop)
  const voiced = voicedFrames(level, floorMarginDb, absoluteSilenceDb)
  const minSilenceFrames = Math.max(1, Math.round(minSilenceMs / FRAME_MS))
  const padFrames = Math.round(padMs / FRAME_MS)
  const maxSamples = Math.floor(maxSegmentSeconds * sampleRate)

  const segments: SampleSpan[] = []
  const runs = soundRuns(voiced, minSilenceFrames)
  runs.forEach(([first, last], i) => {
    // Padding never reaches past the middle of the pause to the neighbouring stretch.
    const before = i === 0 ? padFrames : Math.min(padFrames, Math.floor((first - runs[i - 1]![1] - 1) / 2))
    const after = i === runs.length - 1 ? padFrames : Math.min(padFrames, Math.floor((runs[i + 1]![0] - last - 1) / 2))
    const start = Math.max(0, first - before) * hop
    const end = Math.min(samples.length, (last + 1 + after) * hop)
    for (const piece of cutToLength({ start, end }, level, hop, maxSamples)) {
      if (piece.end - piece.start >= Math.max(1, minSegment)) segments.push(piece)
    }
  })
  return segments
}

/** RMS level in dBFS of each hop-long frame. */
function frameLevels(samples: Float32Array, hop: number): Float32Array {
  const frames = Math.ceil(samples.length / hop)
  const level = new Float32Array(frames)
  for (let f = 0; f < frames; f++) {
    let sum = 0
    const end = Math.min(samples.length, (f + 1) * hop)
    for (let i = f * hop; i < end; i++) sum += samples[i]! * samples[i]!
    level[f] = 10 * Math.log10(sum / (end - f * hop) + 1e-20)
  }
  return level
}

function voicedFrames(level: Float32Array, floorMarginDb: number, absoluteSilenceDb: number): Uint8Array {
  const blocks = Math.ceil(level.length / BLOCK_FRAMES)
  const floors = new Float32Array(blocks)
  const peaks = new Float32Array(blocks)
  for (let b = 0; b < blocks; b++) {
    const block = level.slice(b * BLOCK_FRAMES, (b + 1) * BLOCK_FRAMES).sort()
    floors[b] = block[Math.floor(block.length * 0.1)]!
    peaks[b] = block[block.length - 1]!
  }
  const voiced = new Uint8Array(level.length)
  for (let f = 0; f < level.length; f++) {
    const b = Math.floor(f / BLOCK_FRAMES)
    const lo = Math.max(0, b - 1)
    const hi = Math.min(blocks - 1, b + 1)
    let floor = Infinity
    let peak = -Infinity
    for (let k = lo; k <= hi; k++) {
      floor = Math.min(floor, floors[k]!)
      peak = Math.max(peak, peaks[k]!)
    }
    const range = peak - floor
    const threshold = range < MIN_RANGE_DB ? absoluteSilenceDb : Math.max(absoluteSilenceDb, floor + Math.min(floorMarginDb, range / 3))
    voiced[f] = level[f]! > threshold ? 1 : 0
  }
  return voiced
}

/** [first, last] voiced frame of each run of sound, runs separated by at least minSilenceFrames of silence. */
function soundRuns(voiced: Uint8Array, minSilenceFrames: number): Array<[number, number]> {
  const runs: Array<[number, number]> = []
  let first = -1
  let last = -1
  for (let f = 0; f < voiced.length; f++) {
    if (!voiced[f]) continue
    if (first !== -1 && f - last - 1 >= minSilenceFrames) {
      runs.push([first, last])
      first = -1
    }
    if (first === -1) first = f
    last = f
  }
  if (first !== -1) runs.push([first, last])
  return runs
}

/** Cuts a span longer than maxSamples at the quietest 100 ms in the last half of each allowed length. */
function cutToLength(span: SampleSpan, level: Float32Array, hop: number, maxSamples: number): SampleSpan[] {
  const pieces: SampleSpan[] = []
  let start = span.start
  const smooth = 10
  while (span.end - start > maxSamples) {
    const from = Math.ceil((start + maxSamples / 2) / hop)
    const to = Math.max(from, Math.floor((start + maxSamples) / hop) - smooth)
    let bestFrame = to
    let best = Infinity
    for (let f = from; f <= to; f++) {
      let sum = 0
      for (let k = f; k < f + smooth && k < level.length; k++) sum += 10 ** (level[k]! / 10)
      if (sum < best) {
        best = sum
        bestFrame = f
      }
    }
    // The cut lands in the middle of the quiet window, always within the allowed length.
    const cut = Math.min(start + maxSamples, (bestFrame + smooth / 2) * hop)
    pieces.push({ start, end: cut })
    start = cut
  }
  pieces.push({ start, end: span.end })
  return pieces
}
