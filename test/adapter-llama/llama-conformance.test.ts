import { runAdapterConformance } from '../conformance/adapter-conformance.ts'
import { llamaConformanceTarget } from './llama-conformance-target.ts'

// The real llama.cpp on a Worker thread of the test's process.
runAdapterConformance(llamaConformanceTarget('worker'))
