import { runAdapterConformance } from '../conformance/adapter-conformance.ts'
import { ttsConformanceTarget } from './tts-conformance-target.ts'

// The real onnxruntime and espeak-ng in an engine process of the model's own (the default isolation), and on a Worker of the test's process.
runAdapterConformance(ttsConformanceTarget('process'))
runAdapterConformance(ttsConformanceTarget('worker'))
