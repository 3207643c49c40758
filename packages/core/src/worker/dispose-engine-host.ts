/** What an engine host (a WorkerHost or a SupervisedHost) offers for its end. */
interface EngineHostLike {
  call(method: string, args: unknown): Promise<unknown>
  terminate(): void
}

/**
 * Ends an engine host: its engine frees what it holds (`dispose`, served by every engine Worker and
 * process), then the host stops. An engine that already died or fails to free is stopped all the same.
 */
export async function disposeEngineHost(host: EngineHostLike): Promise<void> {
  await host.call('dispose', null).catch(() => {})
  host.terminate()
}
