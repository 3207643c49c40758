import { ConfigError } from '../config-error.ts'

/** The catalog file cannot be read, is not YAML, or an entry breaks the schema (the message names the entry and field); a `pull` names nothing it can resolve. */
export class CatalogError extends ConfigError {
  override readonly name = 'CatalogError'
}
