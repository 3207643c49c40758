import { BadRequestError, ImageParams, type ImageInput, type ImageRequest } from '@cy/core'
import { Type, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { Elysia } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { parseError, validationError } from '../errors/from-elysia-error.ts'
import { serveImages } from '../images/serve-images.ts'
import { errorResponses } from '../wire/error-body.ts'
import { ImagesBody } from '../wire/images.ts'

export const IMAGE_EDITS_PATH = '/v1/images/edits'
/** OpenAI takes up to 16 images per edit. */
const MAX_IMAGES = 16

const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]))
const EditFields = Type.Object(
  { ...ImageParams, input_fidelity: Nullable(Type.Union([Type.Literal('high'), Type.Literal('low')])) },
  { additionalProperties: true },
)
const fieldsValidator = TypeCompiler.Compile(EditFields)

const ImageReference = Type.Object({ image_url: Type.Optional(Type.String({ description: 'A data URL (data:image/png;base64,...).' })), file_id: Type.Optional(Type.String()) })
const EditJson = Type.Object({ ...EditFields.properties, images: Type.Array(ImageReference, { minItems: 1, maxItems: MAX_IMAGES }), mask: Type.Optional(ImageReference) })
const EditForm = Type.Object({
  ...EditFields.properties,
  image: Type.Union([Type.String({ format: 'binary' }), Type.Array(Type.String({ format: 'binary' }), { maxItems: MAX_IMAGES })], { description: 'The image to edit (png, jpeg, webp); also sent as `image[]`.' }),
  mask: Type.Optional(Type.String({ format: 'binary', description: 'A PNG as large as the first image whose transparent pixels (alpha 0) mark the area to edit.' })),
})

/** A multipart value that is a file. */
const isFile = (value: unknown): value is File => typeof value === 'object' && value !== null && typeof (value as File).arrayBuffer === 'function'

async function imageInput(file: File, part: string): Promise<ImageInput> {
  const bytes = new Uint8Array(await file.arrayBuffer())
  if (bytes.length === 0) throw new BadRequestError(`The ${part} is empty`, { param: part, code: 'invalid_image' })
  return { name: file.name || part, type: file.type, bytes }
}

/** Only data URLs: fetching a client's URL would let it make this server call out (and `file_id` needs a Files API). */
function referencedImage(reference: { image_url?: string; file_id?: string }, part: string): ImageInput {
  if (reference.file_id !== undefined) throw new BadRequestError(`'${part}.file_id' needs OpenAI's Files API, which this server does not have: send the image as a data URL or a multipart upload`, { param: part, code: 'unsupported_value' })
  const match = /^data:(image\/[a-z+.-]+)?(;base64)?,(.*)$/s.exec(reference.image_url ?? '')
  if (!match) throw new BadRequestError(`'${part}.image_url' must be a data URL (data:image/png;base64,...): this server does not fetch images from URLs`, { param: part, code: 'invalid_image_url' })
  const bytes = match[2] ? Buffer.from(match[3]!, 'base64') : Buffer.from(decodeURIComponent(match[3]!), 'latin1')
  if (bytes.length === 0) throw new BadRequestError(`The ${part} is empty`, { param: part, code: 'invalid_image' })
  return { name: part, type: match[1] ?? '', bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) }
}

/** The fields besides the images, checked against the shared schema (form values converted from text first). */
function checkedFields(fields: Record<string, unknown>, fromForm: boolean): ImageRequest {
  let values = fields
  if (fromForm) {
    // A form carries only text: numbers, booleans and the `loras` list arrive as strings.
    if (typeof values.loras === 'string') {
      try {
        values = { ...values, loras: JSON.parse(values.loras) }
      } catch {
        throw new BadRequestError("'loras' must be a JSON list such as [{\"name\":\"style\",\"weight\":0.8}]", { param: 'loras', code: 'invalid_value' })
      }
    }
    values = Value.Convert(EditFields, values) as Record<string, unknown>
  }
  if (!fieldsValidator.Check(values)) throw validationError([...fieldsValidator.Errors(values)])
  return values as ImageRequest
}

async function fromForm(request: Request): Promise<ImageRequest> {
  const form = await request.formData()
  const fields: Record<string, unknown> = {}
  const images: File[] = []
  let mask: File | undefined
  for (const [rawKey, value] of form.entries()) {
    const key = rawKey.endsWith('[]') ? rawKey.slice(0, -2) : rawKey
    if (key === 'image') {
      if (!isFile(value)) throw new BadRequestError("'image' must be a file upload", { param: 'image', code: 'invalid_image' })
      images.push(value)
    } else if (key === 'mask') {
      if (!isFile(value)) throw new BadRequestError("'mask' must be a file upload", { param: 'mask', code: 'invalid_image' })
      mask = value
    } else if (!isFile(value)) fields[key] = value
  }
  if (images.length === 0) throw new BadRequestError("Missing required parameter: 'image'.", { param: 'image', code: 'missing_image' })
  if (images.length > MAX_IMAGES) throw new BadRequestError(`At most ${MAX_IMAGES} images per edit, not ${images.length}`, { param: 'image', code: 'too_many_images' })
  const edit = checkedFields(fields, true)
  edit.image = await Promise.all(images.map((file, i) => imageInput(file, images.length > 1 ? `image[${i}]` : 'image')))
  if (mask) edit.mask = await imageInput(mask, 'mask')
  return edit
}

async function fromJson(request: Request): Promise<ImageRequest> {
  let body: Record<string, unknown>
  try {
    body = (await request.json()) as Record<string, unknown>
  } catch (error) {
    throw parseError(error)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('The body must be a JSON object', { code: 'invalid_value' })
  const { images, mask, ...fields } = body
  if (!Array.isArray(images) || images.length === 0) throw new BadRequestError("Missing required parameter: 'images' (a list of { image_url } data URLs).", { param: 'images', code: 'missing_image' })
  if (images.length > MAX_IMAGES) throw new BadRequestError(`At most ${MAX_IMAGES} images per edit, not ${images.length}`, { param: 'images', code: 'too_many_images' })
  const edit = checkedFields(fields, false)
  edit.image = images.map((reference, i) => referencedImage(reference as { image_url?: string }, `images[${i}]`))
  if (mask !== undefined && mask !== null) edit.mask = referencedImage(mask as { image_url?: string }, 'mask')
  return edit
}

/**
 * OpenAI's image edits: a multipart upload (`image` or `image[]`, `mask`) or JSON with data-URL `images`.
 * The body is read here, not by Elysia, so one handler takes both and the upload limit applies as it is read.
 */
export const imageEditsRoute = (ctx: ApiContext) =>
  new Elysia().post(
    IMAGE_EDITS_PATH,
    async ({ request }) => {
      const json = (request.headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')
      let edit: ImageRequest
      try {
        edit = json ? await fromJson(request) : await fromForm(request)
      } catch (error) {
        throw parseError(error)
      }
      return serveImages(ctx, edit, request, 'image_edit')
    },
    {
      parse: 'none',
      response: { 200: ImagesBody, ...errorResponses },
      detail: {
        tags: ['Images'],
        summary: 'Edit images',
        description:
          'Multipart (`image` or `image[]`, optional `mask` whose alpha 0 marks the area to edit) or JSON (`images: [{ image_url: "data:..." }]`). Without a mask the image is redrawn (img2img, `strength` 0–1, default 0.75); with one, only the masked area. `stream: true` sends `image_edit.partial_image` and `image_edit.completed` events.',
        // TypeBox schemas are JSON Schema; the docs' OpenAPI types do not know TypeBox's.
        requestBody: { required: true, content: { 'multipart/form-data': { schema: EditForm as never }, 'application/json': { schema: EditJson as never } } },
      },
    },
  )
