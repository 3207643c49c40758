import type { ChatMessage, ChatRequest, ContentPart } from '@cy/core'
import { fileURLToPath } from 'node:url'
import { base64Bytes, checkDataUri, imageMime, toDataUri } from './data-uri.ts'
import { fetchImage } from './fetch-image.ts'
import { ImageTooLargeError } from './image-too-large-error.ts'
import { InvalidImageUrlError } from './invalid-image-url-error.ts'
import { LocalImages } from './local-image.ts'
import { resolveMediaOptions, type MediaOptions, type ResolvedMediaOptions } from './media-options.ts'

/** Where an image part sits: its message, its index in that message's content, and its rank among the request's images. */
export interface ImagePartPlace {
  message: number
  part: number
  ordinal: number
}

/** The `param` an error about an image part names (the route knows how the client wrote it). */
export type ImageParamNamer = (place: ImagePartPlace) => string

export const chatImageParam: ImageParamNamer = ({ message, part }) => `messages[${message}].content[${part}].image_url.url`

/**
 * Turns every `image_url` of a chat into a `data:` URI before a model sees it: data URIs checked and
 * passed on, `http(s)` URLs fetched (see `fetchImage`), absolute paths and `file://` URLs read from the
 * allow-listed folders. `detail` and the other parts stay as they are.
 */
export class ImageUrlResolver {
  readonly options: ResolvedMediaOptions
  readonly #local: LocalImages

  constructor(options?: MediaOptions) {
    this.options = resolveMediaOptions(options)
    this.#local = new LocalImages(this.options.allowedDirs)
  }

  /** One image URL as a data URI, or a 400 naming `param`. */
  async resolve(url: string, param: string, signal: AbortSignal): Promise<string> {
    const { maxBytes } = this.options
    if (/^data:/i.test(url)) return checkDataUri(url, param, maxBytes)
    const bytes = await this.#bytes(url, param, signal)
    if (bytes.byteLength === 0) throw new InvalidImageUrlError(param, 'the image is empty')
    return toDataUri(bytes, imageMime(bytes, param))
  }

  /** The chat with its image URLs resolved; the same object when it has none. Images resolve one at a time, bounding memory. */
  async resolveChat(chat: ChatRequest, signal: AbortSignal, paramOf: ImageParamNamer = chatImageParam): Promise<ChatRequest> {
    if (!chat.messages.some((message) => Array.isArray(message.content) && message.content.some((part) => part.type === 'image_url'))) return chat
    let ordinal = 0
    let total = 0
    const messages: ChatMessage[] = []
    for (const [m, message] of chat.messages.entries()) {
      if (!Array.isArray(message.content)) {
        messages.push(message)
        continue
      }
      const content: ContentPart[] = []
      for (const [p, part] of message.content.entries()) {
        if (part.type !== 'image_url') {
          content.push(part)
          continue
        }
        const param = paramOf({ message: m, part: p, ordinal: ordinal++ })
        const url = await this.resolve(part.image_url.url, param, signal)
        // Every image of the request is held at once until the model has it.
        total += base64Bytes(url.slice(url.indexOf(',') + 1))
        if (total > this.options.maxTotalBytes) throw new ImageTooLargeError(param, this.options.maxTotalBytes, "the request's images together are")
        content.push({ ...part, image_url: { ...part.image_url, url } })
      }
      messages.push({ ...message, content })
    }
    return { ...chat, messages }
  }

  async #bytes(url: string, param: string, signal: AbortSignal): Promise<Uint8Array> {
    const { maxBytes, remote } = this.options
    if (/^https?:/i.test(url)) {
      if (!remote) throw new InvalidImageUrlError(param, 'this server does not fetch image URLs; send the image as a data URI', 'image_url_not_allowed')
      let parsed: URL
      try {
        parsed = new URL(url)
      } catch {
        throw new InvalidImageUrlError(param, 'not a valid URL')
      }
      return fetchImage(parsed, param, this.options, signal)
    }
    if (/^file:/i.test(url)) {
      let path: string
      try {
        path = fileURLToPath(url)
      } catch {
        throw new InvalidImageUrlError(param, 'not a valid file:// URL (file:///absolute/path)')
      }
      return this.#local.read(path, param, maxBytes)
    }
    if (url.startsWith('/')) return this.#local.read(url, param, maxBytes)
    throw new InvalidImageUrlError(param, 'expected a data: URI, an http(s) URL, or an absolute path to an image file')
  }
}
