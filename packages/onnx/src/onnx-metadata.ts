import { ModelFileError, withFile } from '@cy/native'
import { OnnxFormatError } from './onnx-format-error.ts'
import { ProtoFile } from './protobuf-file.ts'
import { ProtobufFormatError } from './protobuf-format-error.ts'
import { fieldText, messageFields, WIRE_LEN, WIRE_VARINT, type ProtoField } from './protobuf-wire.ts'

/** What the start of an ONNX file says, read without loading the graph's weights. */
export interface OnnxHeader {
  /** `metadata_props`, in file order (a later duplicate key wins). */
  metadata: Record<string, string>
  /** The graph's declared input and output names, in order (onnxruntime's session says which it feeds). */
  inputs: string[]
  outputs: string[]
  irVersion: number
  /** `opset_import`: the default domain is `''` (`ai.onnx`). */
  opsets: Array<{ domain: string; version: number }>
}

// Field numbers from onnx/onnx.proto.
const MODEL = { irVersion: 1, graph: 7, opsetImport: 8, metadataProps: 14 } as const
const GRAPH = { input: 11, output: 12 } as const
const VALUE_INFO = { name: 1 } as const
const ENTRY = { key: 1, value: 2 } as const
const OPSET = { domain: 1, version: 2 } as const

// Caps, so a hostile or corrupt file cannot make the reader allocate or loop without bound.
const CAPS = { entryBytes: 16 * 1024 * 1024, valueInfoBytes: 1024 * 1024, entries: 10_000 } as const

/** An ONNX model's `metadata_props` (sherpa-onnx's packaging keeps its frontend constants there). */
export async function readOnnxMetadata(path: string): Promise<Record<string, string>> {
  return (await readOnnxHeader(path)).metadata
}

/**
 * Reads ModelProto's small fields and the graph's input and output names with positional reads, skipping
 * nodes and initializers by their lengths. onnxruntime's JS API exposes no custom metadata, hence this.
 */
export async function readOnnxHeader(path: string): Promise<OnnxHeader> {
  try {
    return await withFile(path, (file) => readHeader(new ProtoFile(file)))
  } catch (error) {
    if (error instanceof ProtobufFormatError || error instanceof ModelFileError) {
      throw new OnnxFormatError(path, error.message, { cause: error })
    }
    throw error
  }
}

async function readHeader(file: ProtoFile): Promise<OnnxHeader> {
  const header: OnnxHeader = { metadata: {}, inputs: [], outputs: [], irVersion: 0, opsets: [] }
  let entries = 0
  const countEntry = () => {
    if (++entries > CAPS.entries) throw new ProtobufFormatError(`more than ${CAPS.entries} opset and metadata entries`)
  }
  let sawIrVersion = false
  let sawGraph = false
  for await (const field of file.fields(0, file.size)) {
    if (field.field === MODEL.irVersion && field.wireType === WIRE_VARINT) {
      header.irVersion = field.value
      sawIrVersion = true
    } else if (field.field === MODEL.graph && field.wireType === WIRE_LEN) {
      sawGraph = true
      await readGraphNames(file, field, header)
    } else if (field.field === MODEL.opsetImport && field.wireType === WIRE_LEN) {
      countEntry()
      header.opsets.push(readOpset(await file.payload(field, CAPS.valueInfoBytes, 'an opset_import entry')))
    } else if (field.field === MODEL.metadataProps && field.wireType === WIRE_LEN) {
      countEntry()
      const [key, value] = readEntry(await file.payload(field, CAPS.entryBytes, 'a metadata_props entry'))
      header.metadata[key] = value
    }
  }
  // Random bytes can parse as a few protobuf fields; a model has both of these.
  if (!sawIrVersion) throw new ProtobufFormatError('no ir_version (field 1)')
  if (!sawGraph) throw new ProtobufFormatError('no graph (field 7)')
  return header
}

async function readGraphNames(file: ProtoFile, graph: ProtoField, header: OnnxHeader): Promise<void> {
  for await (const field of file.fields(graph.start, graph.end)) {
    if (field.wireType !== WIRE_LEN || (field.field !== GRAPH.input && field.field !== GRAPH.output)) continue
    const names = field.field === GRAPH.input ? header.inputs : header.outputs
    if (names.length >= CAPS.entries) throw new ProtobufFormatError(`a graph with more than ${CAPS.entries} inputs or outputs`)
    names.push(readName(await file.payload(field, CAPS.valueInfoBytes, 'a graph input or output')))
  }
}

function readName(bytes: Uint8Array): string {
  let name = ''
  for (const field of messageFields(bytes)) if (field.field === VALUE_INFO.name) name = fieldText(bytes, field)
  return name
}

function readEntry(bytes: Uint8Array): [string, string] {
  let key = ''
  let value = ''
  for (const field of messageFields(bytes)) {
    if (field.field === ENTRY.key) key = fieldText(bytes, field)
    else if (field.field === ENTRY.value) value = fieldText(bytes, field)
  }
  return [key, value]
}

function readOpset(bytes: Uint8Array): { domain: string; version: number } {
  const opset = { domain: '', version: 0 }
  for (const field of messageFields(bytes)) {
    if (field.field === OPSET.domain) opset.domain = fieldText(bytes, field)
    else if (field.field === OPSET.version && field.wireType === WIRE_VARINT) opset.version = field.value
  }
  return opset
}
