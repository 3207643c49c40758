export * from './decode-audio.ts'
export * from './ffmpeg.ts'
export * from './resampler.ts'
export * from './wav-decoder.ts'
