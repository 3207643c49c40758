import type { ImageParamNamer } from './image-url-resolver.ts'

type Item = Record<string, unknown> & { type: string }

/**
 * Names a Responses conversation's images as the client wrote them: `input[i].content[j].image_url` for this
 * request's input, `previous_response_id` for one of the stored history. The chat built from the items keeps
 * their `input_image` parts in order, so the n-th image of the chat is the n-th of the items.
 */
export function responseImageParam(history: readonly Item[], input: readonly Item[]): ImageParamNamer {
  const places: string[] = []
  const collect = (items: readonly Item[], name: (item: number, part: number) => string) => {
    for (const [i, item] of items.entries()) {
      if (item.type !== 'message' || !Array.isArray(item.content)) continue
      for (const [j, part] of (item.content as Item[]).entries()) {
        if (part.type === 'input_image' && typeof part.image_url === 'string') places.push(name(i, j))
      }
    }
  }
  collect(history, () => 'previous_response_id')
  collect(input, (i, j) => `input[${i}].content[${j}].image_url`)
  return ({ ordinal }) => places[ordinal] ?? 'input'
}
