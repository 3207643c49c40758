/**
 * A 44-byte WAV header for 16-bit PCM. With `dataBytes` unknown (a stream), the sizes are set to the
 * maximum, which players and decoders read as "until the end of the stream".
 */
export function wavHeader(sampleRate: number, channels: number, dataBytes?: number): Uint8Array {
  const header = new ArrayBuffer(44)
  const view = new DataView(header)
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i))
  }
  const blockAlign = channels * 2
  ascii(0, 'RIFF')
  view.setUint32(4, dataBytes === undefined ? 0xffffffff : 36 + dataBytes, true)
  ascii(8, 'WAVE')
  ascii(12, 'fmt ')
  view.setUint32(16, 16, true)
  view.setUint16(20, 1, true)
  view.setUint16(22, channels, true)
  view.setUint32(24, sampleRate, true)
  view.setUint32(28, sampleRate * blockAlign, true)
  view.setUint16(32, blockAlign, true)
  view.setUint16(34, 16, true)
  ascii(36, 'data')
  view.setUint32(40, dataBytes === undefined ? 0xffffffff : dataBytes, true)
  return new Uint8Array(header)
}
