/**
 * espeak-ng keeps one state per process (its voice, its translator): threads of one process that phonemize
 * take turns through this lock, which lives in a SharedArrayBuffer every engine Worker of the process is
 * handed. Slot 0 is the lock, slot 1 counts voice changes, so a thread knows when another changed the voice.
 */
export class EspeakLock {
  readonly cells: Int32Array

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.cells = new Int32Array(buffer)
  }

  get buffer(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer
  }

  /** Runs `work` holding the lock (a phonemization takes well under a millisecond, so waiters wait little). */
  hold<T>(work: () => T): T {
    while (Atomics.compareExchange(this.cells, 0, 0, 1) !== 0) Atomics.wait(this.cells, 0, 1, 50)
    try {
      return work()
    } finally {
      Atomics.store(this.cells, 0, 0)
      Atomics.notify(this.cells, 0, 1)
    }
  }

  /** The count of voice changes in the process; call with the lock held. */
  get voiceChanges(): number {
    return Atomics.load(this.cells, 1)
  }

  /** Counts a voice change; returns the new count. Call with the lock held. */
  changedVoice(): number {
    return Atomics.add(this.cells, 1, 1) + 1
  }
}

/**
 * The lock of the model Workers this thread starts (the server's main thread in isolation 'worker', an
 * engine process's relay otherwise): created once per process, here.
 */
export const PROCESS_ESPEAK_LOCK = new EspeakLock()
