import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const ASSETS = '/docs/assets/'

/** Swagger UI's files from the installed swagger-ui-dist, so the docs work on machines without internet. */
function swaggerAssetsDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
}

/**
 * `/openapi.json` from the route schemas, and Swagger UI at `/docs`. `references` documents routes whose
 * schemas Elysia does not hold (the JSON routes, which validate their own bodies).
 */
export const openapiDocs = (version: string, references: Record<string, Record<string, unknown>> = {}) => {
  const assets = swaggerAssetsDir()
  return new Elysia({ name: 'cy-docs' })
    .use(
      openapi({
        path: '/docs',
        specPath: '/openapi.json',
        provider: 'swagger-ui',
        swagger: { cdn: `${ASSETS}swagger-ui-bundle.js`, theme: `${ASSETS}swagger-ui.css`, autoDarkMode: false },
        exclude: { paths: [/^\/docs/] },
        references: references as never,
        documentation: {
          info: {
            title: 'cy: self-hosted AI models behind the OpenAI API',
            version,
            description:
              'OpenAI-compatible routes under `/v1`, where every error is `{ "error": { "message", "type", "param", "code" } }`; the engine API under `/api/v1`, where every error is `{ "error": { "code", "message", "details": [{ "type", "field", "description" }] } }`.',
          },
          components: {
            securitySchemes: {
              bearer: { type: 'http', scheme: 'bearer', description: 'The server API key, when one is set.' },
              apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
            },
          },
          security: [{ bearer: [] }, { apiKeyHeader: [] }],
        },
      }),
    )
    .get(`${ASSETS}:file`, ({ params }) => {
      if (!/^swagger-ui(-bundle\.js|\.css)$/.test(params.file)) return new Response('Not found', { status: 404 })
      return new Response(Bun.file(join(assets, params.file)))
    })
}
