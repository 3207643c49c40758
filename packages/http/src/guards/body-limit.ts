import { PayloadTooLargeError } from '@cy/core'

/**
 * A body sent without a content-length (chunked) can only be measured while it is read: returns a copy of
 * the request whose body fails with a 413 once more than `limit` bytes have come in.
 */
export function limitBody(request: Request, limit: number): Request {
  const body = request.body
  if (!body) return request
  let received = 0
  const limited = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        received += chunk.byteLength
        if (received > limit) controller.error(new PayloadTooLargeError(`The request body is over the limit of ${limit} bytes`))
        else controller.enqueue(chunk)
      },
    }),
  )
  // The copy keeps the method, headers and signal (a client that leaves still aborts it).
  return new Request(request, { body: limited, duplex: 'half' } as RequestInit)
}
