/** Why generation stopped, as OpenAI names it, plus `cancelled` for work the client abandoned. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error' | 'cancelled'
