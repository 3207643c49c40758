/** Lets the engine Worker read its messages (new requests, cancellations, credit) between pieces of work. */
export const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve))
