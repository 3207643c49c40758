import { runAdapterConformance } from '../conformance/adapter-conformance.ts'
import { whisperConformanceTarget } from './whisper-conformance-target.ts'

// The real whisper.cpp on Workers of the test's process.
runAdapterConformance(whisperConformanceTarget('worker'))
