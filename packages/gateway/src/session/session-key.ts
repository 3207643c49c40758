import type { ChatMessage, ChatRequest } from '@cy/core'
import { messageText } from '../tool-bridge/bridge-request.ts'
import { decodeMarker, stripMarkers } from './zero-width-codec.ts'

export type SessionTracking = 'hash' | 'zero_width'

export interface Session {
  id: string
  /** True when this request starts the session (zero-width mode: no marker came back). */
  fresh: boolean
  /** The request with any markers taken out of its messages. */
  request: ChatRequest
}

/**
 * Which conversation a request belongs to. `hash` (default): SHA-256 of the caller (a digest of its API
 * key, so two users with the same prompts never share a session), the model, the `user` field, the system
 * prompt and the first user message, which stay the same turn after turn. `zero_width`: the id hidden in
 * an earlier assistant answer (see zero-width-codec), or a new one.
 */
export function identifySession(chat: ChatRequest, tracking: SessionTracking, caller = ''): Session {
  if (tracking === 'zero_width') {
    let id: string | undefined
    const messages = chat.messages.map((message): ChatMessage => {
      if (message.role !== 'assistant' || typeof message.content !== 'string') return message
      id = decodeMarker(message.content) ?? id
      return { ...message, content: stripMarkers(message.content) }
    })
    if (id) return { id, fresh: false, request: { ...chat, messages } }
    return { id: `sess_${crypto.randomUUID().replaceAll('-', '')}`, fresh: true, request: { ...chat, messages } }
  }
  const system = chat.messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => messageText(m.content))
  const firstUser = chat.messages.find((m) => m.role === 'user')
  const hasher = new Bun.CryptoHasher('sha256')
  hasher.update(JSON.stringify([caller, chat.model, (chat as { user?: unknown }).user ?? null, system, firstUser ? messageText(firstUser.content) : null]))
  return { id: `sess_${hasher.digest('hex').slice(0, 32)}`, fresh: false, request: chat }
}
