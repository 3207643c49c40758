import { ModelFileError, type TensorInfo } from '@cy/native'

// A small pickle machine for torch's data.pkl: enough to rebuild the state dict's structure (dicts, tuples,
// the _rebuild_tensor calls) and so read each tensor's name and shape; storages and other objects stay opaque.
class Mark {}
class Global {
  constructor(readonly path: string) {}
}
class Call {
  constructor(
    readonly fn: Value,
    readonly args: Value[],
  ) {}
}
class Tuple {
  constructor(readonly items: Value[]) {}
}
class Dict {
  readonly entries: Array<[Value, Value]> = []
}
class Opaque {}
type Value = null | boolean | number | bigint | string | Uint8Array | Value[] | Mark | Global | Call | Tuple | Dict | Opaque

const MARK = new Mark()
const MAX_DEPTH = 64
const decoder = new TextDecoder()

/** The tensors of a torch pickle (a `data.pkl`), by the dotted names under which the state dict holds them. */
export function tensorsFromTorchPickle(bytes: Uint8Array): TensorInfo[] {
  return stateDictTensors(runPickle(bytes, 0).value)
}

// torch.save before 1.6 (or with _use_new_zipfile_serialization=False): pickles of a magic number, the
// protocol version 1001 and sys_info, then the state dict (torch_legacy_io.cpp:22-31); storages follow.
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn

/** The tensors of a legacy (non-zip) torch file, from its leading bytes. */
export function tensorsFromLegacyTorch(bytes: Uint8Array): TensorInfo[] {
  const magic = runPickle(bytes, 0)
  if (magic.value !== LEGACY_MAGIC) throw new ModelFileError('a pickle, but not a torch file (no legacy magic number)')
  const version = runPickle(bytes, magic.end)
  if (version.value !== 1001) throw new ModelFileError(`legacy torch protocol ${String(version.value)} is not 1001`)
  const sysInfo = runPickle(bytes, version.end)
  return stateDictTensors(runPickle(bytes, sysInfo.end).value)
}

function stateDictTensors(value: Value): TensorInfo[] {
  const tensors: TensorInfo[] = []
  collect(value, tensors, 0)
  if (tensors.length === 0) throw new ModelFileError('torch pickle does not contain a state dict of tensors')
  return tensors
}

function collect(value: Value, into: TensorInfo[], depth: number): void {
  if (!(value instanceof Dict) || depth > MAX_DEPTH) return
  for (const [key, item] of value.entries) {
    const shape = tensorShape(item)
    if (typeof key === 'string' && shape) into.push({ name: key, shape, dtype: 'torch' })
    else collect(item, into, depth + 1)
  }
}

function tensorShape(value: Value): number[] | null {
  if (!(value instanceof Call) || !(value.fn instanceof Global)) return null
  const fn = value.fn.path
  if (fn === 'torch._utils._rebuild_parameter' || fn === 'torch._utils._rebuild_parameter_with_state') return tensorShape(value.args[0] ?? null)
  if (!fn.startsWith('torch._utils._rebuild_tensor') && fn !== 'torch._utils._rebuild_qtensor') return null
  const size = value.args[2]
  const dims = size instanceof Tuple ? size.items : null
  return dims && dims.every((d) => typeof d === 'number') ? (dims as number[]) : null
}

/** Runs one pickle from `start`: its value, and where the next byte after its STOP is. */
function runPickle(bytes: Uint8Array, start: number): { value: Value; end: number } {
  if (bytes.length < start + 2 || bytes[start] !== 0x80 || bytes[start + 1]! < 2 || bytes[start + 1]! > 5) {
    throw new ModelFileError('unsupported torch pickle protocol')
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const stack: Value[] = []
  const memo = new Map<number, Value>()
  let p = start + 2
  const need = (n: number): number => {
    if (p + n > bytes.length) throw new ModelFileError('truncated torch pickle')
    const at = p
    p += n
    return at
  }
  const pop = (): Value => {
    if (stack.length === 0) throw new ModelFileError('torch pickle pops an empty stack')
    return stack.pop()!
  }
  const popMark = (): Value[] => {
    const at = stack.lastIndexOf(MARK)
    if (at < 0) throw new ModelFileError('torch pickle has no mark')
    const items = stack.splice(at)
    items.shift()
    return items
  }
  const line = (): string => {
    const end = bytes.indexOf(0x0a, p)
    if (end < 0) throw new ModelFileError('truncated torch pickle')
    const text = decoder.decode(bytes.subarray(p, end))
    p = end + 1
    return text
  }
  const text = (n: number): string => decoder.decode(bytes.subarray(need(n), p))
  const setItems = (target: Value, items: Value[]): void => {
    if (target instanceof Dict) for (let i = 0; i + 1 < items.length; i += 2) target.entries.push([items[i]!, items[i + 1]!])
  }
  const top = (): Value => {
    if (stack.length === 0) throw new ModelFileError('torch pickle reads an empty stack')
    return stack[stack.length - 1]!
  }
  const call = (fn: Value, args: Value[]): Value => (fn instanceof Global && fn.path === 'collections.OrderedDict' ? new Dict() : new Call(fn, args))

  while (p < bytes.length) {
    const op = bytes[p++]!
    switch (op) {
      case 0x2e: // STOP
        return { value: pop(), end: p }
      case 0x95: // FRAME
        need(8)
        break
      case 0x28: // MARK
        stack.push(MARK)
        break
      case 0x7d: // EMPTY_DICT
        stack.push(new Dict())
        break
      case 0x64: { // DICT
        const dict = new Dict()
        setItems(dict, popMark())
        stack.push(dict)
        break
      }
      case 0x5d: // EMPTY_LIST
        stack.push([])
        break
      case 0x6c: // LIST
        stack.push(popMark())
        break
      case 0x29: // EMPTY_TUPLE
        stack.push(new Tuple([]))
        break
      case 0x74: // TUPLE
        stack.push(new Tuple(popMark()))
        break
      case 0x85: // TUPLE1
        stack.push(new Tuple([pop()]))
        break
      case 0x86: { // TUPLE2
        const b = pop()
        stack.push(new Tuple([pop(), b]))
        break
      }
      case 0x87: { // TUPLE3
        const c = pop()
        const b = pop()
        stack.push(new Tuple([pop(), b, c]))
        break
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Opaque())
        break
      case 0x90: // ADDITEMS
        popMark()
        break
      case 0x91: // FROZENSET
        popMark()
        stack.push(new Opaque())
        break
      case 0x61: { // APPEND
        const item = pop()
        const list = top()
        if (Array.isArray(list)) list.push(item)
        break
      }
      case 0x65: { // APPENDS
        const items = popMark()
        const list = top()
        if (Array.isArray(list)) list.push(...items)
        break
      }
      case 0x73: { // SETITEM
        const value = pop()
        const key = pop()
        setItems(top(), [key, value])
        break
      }
      case 0x75: { // SETITEMS
        const items = popMark()
        setItems(top(), items)
        break
      }
      case 0x4e: // NONE
        stack.push(null)
        break
      case 0x88: // NEWTRUE
        stack.push(true)
        break
      case 0x89: // NEWFALSE
        stack.push(false)
        break
      case 0x4b: // BININT1
        stack.push(bytes[need(1)]!)
        break
      case 0x4d: // BININT2
        stack.push(view.getUint16(need(2), true))
        break
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true))
        break
      case 0x8a: { // LONG1
        const n = bytes[need(1)]!
        stack.push(littleEndianInt(bytes.subarray(need(n), p)))
        break
      }
      case 0x8b: { // LONG4
        const n = view.getInt32(need(4), true)
        if (n < 0) throw new ModelFileError('bad torch pickle long')
        stack.push(littleEndianInt(bytes.subarray(need(n), p)))
        break
      }
      case 0x47: // BINFLOAT
        stack.push(view.getFloat64(need(8), false))
        break
      case 0x49: { // INT
        const value = line()
        stack.push(value === '00' ? false : value === '01' ? true : Number.parseInt(value, 10))
        break
      }
      case 0x4c: // LONG
        stack.push(Number.parseInt(line(), 10))
        break
      case 0x46: // FLOAT
        stack.push(Number.parseFloat(line()))
        break
      case 0x58: // BINUNICODE
      case 0x54: // BINSTRING
        stack.push(text(view.getUint32(need(4), true)))
        break
      case 0x8c: // SHORT_BINUNICODE
      case 0x55: // SHORT_BINSTRING
        stack.push(text(bytes[need(1)]!))
        break
      case 0x8d: // BINUNICODE8
        stack.push(text(safeLength(view.getBigUint64(need(8), true))))
        break
      case 0x56: // UNICODE
        stack.push(line())
        break
      case 0x53: // STRING
        stack.push(line().replace(/^(['"])(.*)\1$/, '$2'))
        break
      case 0x42: // BINBYTES
        stack.push(bytes.subarray(need(view.getUint32(need(4), true)), p))
        break
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes.subarray(need(bytes[need(1)]!), p))
        break
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(bytes.subarray(need(safeLength(view.getBigUint64(need(8), true))), p))
        break
      case 0x63: { // GLOBAL
        const module = line()
        stack.push(new Global(`${module}.${line()}`))
        break
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop()
        const module = pop()
        stack.push(new Global(`${String(module)}.${String(name)}`))
        break
      }
      case 0x52: // REDUCE
      case 0x81: { // NEWOBJ
        const args = pop()
        stack.push(call(pop(), args instanceof Tuple ? args.items : []))
        break
      }
      case 0x92: { // NEWOBJ_EX
        pop()
        const args = pop()
        stack.push(call(pop(), args instanceof Tuple ? args.items : []))
        break
      }
      case 0x62: // BUILD
        pop()
        break
      case 0x51: // BINPERSID
        pop()
        stack.push(new Opaque())
        break
      case 0x50: // PERSID
        line()
        stack.push(new Opaque())
        break
      case 0x30: // POP
        pop()
        break
      case 0x31: // POP_MARK
        popMark()
        break
      case 0x32: // DUP
        stack.push(top())
        break
      case 0x71: // BINPUT
        memo.set(bytes[need(1)]!, top())
        break
      case 0x72: // LONG_BINPUT
        memo.set(view.getUint32(need(4), true), top())
        break
      case 0x70: // PUT
        memo.set(Number.parseInt(line(), 10), top())
        break
      case 0x94: // MEMOIZE
        memo.set(memo.size, top())
        break
      case 0x68: // BINGET
        stack.push(fromMemo(memo, bytes[need(1)]!))
        break
      case 0x6a: // LONG_BINGET
        stack.push(fromMemo(memo, view.getUint32(need(4), true)))
        break
      case 0x67: // GET
        stack.push(fromMemo(memo, Number.parseInt(line(), 10)))
        break
      default:
        throw new ModelFileError(`torch pickle uses opcode 0x${op.toString(16)} this reader does not know`)
    }
  }
  throw new ModelFileError('torch pickle ends without STOP')
}

function fromMemo(memo: Map<number, Value>, index: number): Value {
  if (!memo.has(index)) throw new ModelFileError(`torch pickle reads memo ${index} before writing it`)
  return memo.get(index)!
}

function safeLength(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ModelFileError('torch pickle length out of range')
  return Number(value)
}

// A number where it fits one exactly (shapes, offsets), else a bigint (the legacy magic number).
function littleEndianInt(bytes: Uint8Array): number | bigint {
  let value = 0n
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!)
  if (bytes.length > 0 && bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(bytes.length * 8)
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
}
