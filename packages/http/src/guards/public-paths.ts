import { IMAGE_FILES_PATH } from '../routes/image-files-path.ts'

/** Paths anyone may GET without the API key: liveness, readiness and the docs, as llama-server keeps them. */
const PUBLIC = new Set(['/health', '/ready', '/docs', '/openapi.json'])

/**
 * Folders of single files anyone may GET: the docs' assets, and image links, whose 128-bit random id
 * is the permission (so a browser can show them in an `<img>`, as OpenAI's signed URLs work).
 */
const PUBLIC_FILES = ['/docs/assets/', IMAGE_FILES_PATH]

/** Everything else needs the key when one is set: the list is of what is open, not of what is closed. */
export function isPublic(method: string, path: string, open?: ReadonlySet<string>): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false
  if (PUBLIC.has(path) || open?.has(path)) return true
  return PUBLIC_FILES.some((folder) => path.length > folder.length && path.startsWith(folder) && !path.includes('/', folder.length))
}
