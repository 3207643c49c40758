import { Type, type Static } from '@sinclair/typebox'

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'lower-case hex' })

/** One model of the catalog (apps/server/catalog/models.yaml documents each field). */
export const CatalogEntrySchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', description: 'lower-case letters, digits, dots, dashes' }),
    hf: Type.String({ pattern: '^[\\w.-]+/[\\w.-]+$', description: 'org/repo' }),
    revision: Type.Optional(Type.String({ minLength: 1 })),
    files: Type.Object(
      {
        model: Type.String({ minLength: 1 }),
        mmproj: Type.Optional(Type.String({ minLength: 1 })),
        extra: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
      },
      { additionalProperties: false },
    ),
    sha256: Type.Optional(Type.Record(Type.String(), Sha256)),
    size: Type.Optional(Type.Integer({ minimum: 0 })),
    sizeApproximate: Type.Optional(Type.Boolean()),
    capabilities: Type.Array(Type.Union(['chat', 'completion', 'embedding', 'asr', 'tts', 'image'].map((c) => Type.Literal(c))), { minItems: 1 }),
    adapter: Type.String({ minLength: 1 }),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    load: Type.Optional(Type.Union([Type.Literal('eager'), Type.Literal('lazy')])),
    description: Type.String({ minLength: 1 }),
    license: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
)

export const CatalogSchema = Type.Object(
  {
    /** The default chat model: the one the banner tells a fresh install to pull. */
    default: Type.Optional(Type.String()),
    models: Type.Array(CatalogEntrySchema),
  },
  { additionalProperties: false },
)

export type CatalogEntry = Static<typeof CatalogEntrySchema>
export type Catalog = Static<typeof CatalogSchema>
