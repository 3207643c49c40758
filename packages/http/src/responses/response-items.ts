import type { ChatMessage, ContentPart, MessageToolCall, ResponseInputItem, ResponseInputPart, ResponsesRequest } from '@cy/core'
import { newId } from '../ids.ts'

const IMAGE_DETAILS = ['auto', 'low', 'high'] as const

/** An item as the Responses API shows it (input items list, `output`): always with an id and a status. */
export type ItemResource = Record<string, unknown> & { id: string; type: string }

function partsText(content: string | ResponseInputPart[]): string {
  if (typeof content === 'string') return content
  return content.map((part) => ('text' in part ? part.text : 'refusal' in part ? part.refusal : '')).join('')
}

export function outputTextPart(text: string) {
  return { type: 'output_text', text, annotations: [], logprobs: [] }
}

/** The request's `input` as item resources, each with an id, as `input_items` lists them. */
export function inputItems(input: ResponsesRequest['input']): ItemResource[] {
  if (input === undefined) return []
  const items: ResponseInputItem[] = typeof input === 'string' ? [{ role: 'user', content: input }] : input
  return items.map((item): ItemResource => {
    if (item.type === 'function_call') {
      return { id: item.id ?? newId('fc', '_'), type: 'function_call', call_id: item.call_id, name: item.name, arguments: item.arguments, status: 'completed' }
    }
    if (item.type === 'function_call_output') {
      return { id: item.id ?? newId('fco', '_'), type: 'function_call_output', call_id: item.call_id, output: partsText(item.output), status: 'completed' }
    }
    const id = item.id ?? newId('msg', '_')
    if (item.role === 'assistant') return { id, type: 'message', role: 'assistant', status: 'completed', content: [outputTextPart(partsText(item.content))] }
    const content =
      typeof item.content === 'string'
        ? [{ type: 'input_text', text: item.content }]
        : item.content.map((part) => (part.type === 'output_text' ? { type: 'input_text', text: part.text } : part))
    return { id, type: 'message', role: item.role, status: 'completed', content }
  })
}

function messageContent(content: unknown[]): string | ContentPart[] {
  const parts: ContentPart[] = []
  for (const part of content as Array<Record<string, unknown>>) {
    if (part.type === 'input_text' || part.type === 'output_text') parts.push({ type: 'text', text: String(part.text ?? '') })
    else if (part.type === 'refusal') parts.push({ type: 'text', text: String(part.refusal ?? '') })
    else if (part.type === 'input_image' && typeof part.image_url === 'string') {
      const detail = IMAGE_DETAILS.find((value) => value === part.detail)
      parts.push({ type: 'image_url', image_url: { url: part.image_url, ...(detail ? { detail } : {}) } })
    }
  }
  return parts.every((part) => part.type === 'text') ? parts.map((part) => (part as { text: string }).text).join('') : parts
}

/** A conversation of items (stored history, then this input) as chat messages for the model. */
export function itemsToMessages(items: ItemResource[]): ChatMessage[] {
  const messages: ChatMessage[] = []
  for (const item of items) {
    if (item.type === 'message') {
      messages.push({ role: item.role as ChatMessage['role'], content: messageContent(item.content as unknown[]) })
    } else if (item.type === 'function_call') {
      const call: MessageToolCall = { id: String(item.call_id), type: 'function', function: { name: String(item.name), arguments: String(item.arguments) } }
      const last = messages.at(-1)
      // Calls made in one turn belong to one assistant message, with the text that came before them.
      if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call]
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] })
    } else if (item.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: String(item.call_id), content: String(item.output) })
    }
  }
  return messages
}
