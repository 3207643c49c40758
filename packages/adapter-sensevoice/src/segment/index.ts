export { splitAtSilences, type SampleSpan, type SilenceSplitOptions } from './silence-split.ts'
