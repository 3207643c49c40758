// Run in a child process on a candidate library folder: a library that crashes on load (wrong CPU,
// missing CUDA driver) takes down this child, not the server. Prints what it found as JSON.
import { dlopen } from 'bun:ffi'
import { join } from 'node:path'
import { findLibrary, LlamaNative } from '../native/llama-native.ts'

const dir = process.argv[2]
if (!dir) throw new Error('usage: smoke-test.ts <library folder>')
const llamaFile = findLibrary(dir, 'libllama')
if (!llamaFile) throw new Error(`no libllama in ${dir}`)
const version = String(dlopen(join(dir, llamaFile), { llama_version: { args: [], returns: 'cstring' } }).symbols.llama_version())
const native = new LlamaNative(dir)
console.log(JSON.stringify({ version, devices: native.devices }))
