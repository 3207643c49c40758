import { runAdapterConformance } from '../conformance/adapter-conformance.ts'
import { llamaConformanceTarget } from './llama-conformance-target.ts'

// The real llama.cpp in an engine process of its own (the adapter's default isolation).
runAdapterConformance(llamaConformanceTarget('process'))
