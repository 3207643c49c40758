/** The config file (or a setting in it) is missing, unreadable or wrong. */
export class ConfigError extends Error {}
