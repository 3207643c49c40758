/** A model cannot load within `--max-loaded-models` / `--max-memory`: every loaded model is busy. */
export class NoRoomError extends Error {}
