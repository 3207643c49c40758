import { runAdapterConformance } from '../conformance/adapter-conformance.ts'
import { senseVoiceConformanceTarget } from './sensevoice-conformance-target.ts'

// The real onnxruntime in an engine process of the model's own (the default isolation), and on a Worker of the test's process.
runAdapterConformance(senseVoiceConformanceTarget('process'))
runAdapterConformance(senseVoiceConformanceTarget('worker'))
