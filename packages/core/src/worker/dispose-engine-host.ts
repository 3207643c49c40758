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

/** A model's engine: an engine Worker in this process, or an engine process behind its host. */
export type ModelEngine = { kind: 'worker'; worker: { dispose(): Promise<void> } } | { kind: 'process'; host: EngineHostLike }

/** Ends a model's engine, whichever kind it is. */
export async function disposeModelEngine(engine: ModelEngine): Promise<void> {
  if (engine.kind === 'worker') return engine.worker.dispose()
  await disposeEngineHost(engine.host)
}
