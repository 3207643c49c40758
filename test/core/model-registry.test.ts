import { describe, expect, test } from 'bun:test'
import { ConflictError, ModelNotFoundError, ModelRegistry, type ChatHandler, type EmbeddingHandler } from '@cy/core'

const chat: ChatHandler = (_req, out) => out.end()
const otherChat: ChatHandler = (_req, out) => out.end()
const embed: EmbeddingHandler = (_req, out) => out.end()

describe('ModelRegistry', () => {
  test('register, has, list, info, unregister', () => {
    const registry = new ModelRegistry()
    const before = Math.floor(Date.now() / 1000)
    registry.register('llama', { chat, embedding: embed }, { ownedBy: 'me', metadata: { ctx: 4096 } })
    registry.register('bert', { embedding: embed })

    expect(registry.has('llama')).toBe(true)
    expect(registry.has('llama', 'chat')).toBe(true)
    expect(registry.has('llama', 'tts')).toBe(false)
    expect(registry.has('nope')).toBe(false)

    expect(registry.list()).toEqual(['llama', 'bert'])
    expect(registry.list('chat')).toEqual(['llama'])
    expect(registry.list('embedding')).toEqual(['llama', 'bert'])
    expect(registry.list('image')).toEqual([])

    const info = registry.info('llama')!
    expect(info).toMatchObject({ id: 'llama', capabilities: ['chat', 'embedding'], ownedBy: 'me', metadata: { ctx: 4096 } })
    expect(info.created).toBeGreaterThanOrEqual(before)
    expect(registry.info('bert')!.ownedBy).toBe('cy')
    expect(registry.info('nope')).toBeUndefined()
    expect(registry.infos().map((i) => i.id)).toEqual(['llama', 'bert'])

    expect(registry.unregister('llama')).toBe(true)
    expect(registry.unregister('llama')).toBe(false)
    expect(registry.has('llama')).toBe(false)
    expect(registry.list()).toEqual(['bert'])
  })

  test('info is a copy: changing it does not change the registry', () => {
    const registry = new ModelRegistry()
    registry.register('m', { chat }, { metadata: { a: 1 } })
    const info = registry.info('m')!
    info.capabilities.push('tts')
    info.metadata.a = 2
    expect(registry.info('m')!.capabilities).toEqual(['chat'])
    expect(registry.info('m')!.metadata).toEqual({ a: 1 })
  })

  test('the same name with another capability is allowed and merges', () => {
    const registry = new ModelRegistry()
    registry.register('m', { chat }, { metadata: { a: 1 } })
    registry.register('m', { embedding: embed }, { metadata: { b: 2 } })
    expect(registry.info('m')!.capabilities).toEqual(['chat', 'embedding'])
    expect(registry.info('m')!.metadata).toEqual({ a: 1, b: 2 })
    expect(registry.resolve('chat', 'm')).toBe(chat)
    expect(registry.resolve('embedding', 'm')).toBe(embed)
    expect(registry.list()).toEqual(['m'])
  })

  test('an explicit undefined capability does not erase a handler already registered', () => {
    const registry = new ModelRegistry()
    registry.register('m', { chat })
    registry.register('m', { chat: undefined, embedding: embed })
    expect(registry.resolve('chat', 'm')).toBe(chat)
    expect(registry.info('m')!.capabilities).toEqual(['chat', 'embedding'])
  })

  test('the same capability twice is a ConflictError 409, and the first handler stays', () => {
    const registry = new ModelRegistry()
    registry.register('m', { chat })
    let error: unknown
    try {
      registry.register('m', { chat: otherChat, embedding: embed })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConflictError)
    expect(error).toMatchObject({ status: 409, type: 'conflict_error', param: 'model', code: 'model_already_registered' })
    expect((error as Error).message).toBe("Model 'm' is already registered for chat completions")
    expect(registry.resolve('chat', 'm')).toBe(chat)
    // Nothing of the rejected registration was applied.
    expect(registry.has('m', 'embedding')).toBe(false)
  })

  test('an empty name or no providers is refused', () => {
    const registry = new ModelRegistry()
    expect(() => registry.register('', { chat })).toThrow(ConflictError)
    expect(() => registry.register('m', {})).toThrow(ConflictError)
    expect(() => registry.register('m', { chat: undefined })).toThrow(ConflictError)
    expect(registry.list()).toEqual([])
  })

  test('after unregister the name can be registered again', () => {
    const registry = new ModelRegistry()
    registry.register('m', { chat })
    registry.unregister('m')
    registry.register('m', { chat: otherChat })
    expect(registry.resolve('chat', 'm')).toBe(otherChat)
  })

  test('resolve returns the handler', () => {
    const registry = new ModelRegistry()
    registry.register('m', { chat })
    expect(registry.resolve('chat', 'm')).toBe(chat)
  })

  test('resolve of an unknown model lists the models with that capability', () => {
    const registry = new ModelRegistry()
    registry.register('a', { chat })
    registry.register('emb', { embedding: embed })
    registry.register('b', { chat: otherChat })
    let error: unknown
    try {
      registry.resolve('chat', 'x')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ModelNotFoundError)
    expect((error as Error).message).toBe("Model 'x' is not available. Available models: a, b")
    expect(error).toMatchObject({ status: 404, param: 'model', code: 'model_not_found' })
  })

  test('resolve of a model that lacks the capability is also not available', () => {
    const registry = new ModelRegistry()
    registry.register('emb', { embedding: embed })
    expect(() => registry.resolve('chat', 'emb')).toThrow("Model 'emb' is not available. Available models: (none)")
  })

  test('a model’s own limits give it a limiter; an alias given the same limits object shares it; info shows no limiter', () => {
    const registry = new ModelRegistry()
    const limits = { maxConcurrency: 2 }
    registry.register('llama', { chat }, { limits })
    registry.register('alias', { chat }, { limits })
    registry.register('other', { chat }, { limits: { maxConcurrency: 2 } })
    registry.register('free', { chat })
    expect(registry.limiter('llama')!.limits).toEqual({ maxConcurrency: 2, maxQueue: 8 })
    expect(registry.limiter('alias')).toBe(registry.limiter('llama'))
    expect(registry.limiter('other')).not.toBe(registry.limiter('llama'))
    expect(registry.limiter('free')).toBeUndefined()
    expect(registry.info('llama')).not.toHaveProperty('limiter')
    expect(() => registry.register('bad', { chat }, { limits: { maxConcurrency: 0 } })).toThrow(RangeError)
    expect(() => registry.register('bad', { chat }, { limits: { maxConcurrency: 1, maxQueue: -1 } })).toThrow(RangeError)
  })
})
