import { runAdapterConformance } from '../conformance/adapter-conformance.ts'
import { sdxlConformanceTarget } from './sdxl-conformance-target.ts'

// The real stable-diffusion.cpp in an engine process of its own (the adapter's default isolation).
runAdapterConformance(sdxlConformanceTarget('process'))
