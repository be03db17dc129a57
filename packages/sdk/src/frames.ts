import { deserialize, serialize } from 'node:v8'

// Length-prefixed frames for the sandbox channel: 4-byte big-endian length + v8 structured-clone
// payload. The reader is bounded: a frame announced above `maxBytes` is refused before any of it
// is buffered, and a payload that does not deserialize is reported, never thrown.

export function encodeFrame(message: unknown): Buffer {
  const payload = serialize(message)
  const header = Buffer.alloc(4)
  header.writeUInt32BE(payload.byteLength, 0)
  return Buffer.concat([header, payload])
}

export interface FrameReader {
  push(chunk: Buffer): void
  /** Bytes held for an incomplete frame. */
  readonly buffered: number
}

export function createFrameReader(options: {
  maxBytes: number
  onMessage: (message: unknown) => void
  /** A payload that does not deserialize: the frame is dropped, the stream stays in sync. */
  onBadPayload: (error: unknown, bytes: number) => void
  /** A frame above maxBytes: the stream cannot be trusted any more; the reader stops. */
  onOversize: (bytes: number) => void
}): FrameReader {
  let chunks: Buffer[] = []
  let buffered = 0
  let dead = false
  return {
    get buffered() {
      return buffered
    },
    push(chunk) {
      if (dead) return
      chunks.push(chunk)
      buffered += chunk.byteLength
      for (;;) {
        if (buffered < 4) return
        const head = chunks[0] as Buffer
        const length = (head.byteLength >= 4 ? head : Buffer.concat(chunks)).readUInt32BE(0)
        if (length > options.maxBytes) {
          dead = true
          chunks = []
          buffered = 0
          options.onOversize(length)
          return
        }
        if (buffered < 4 + length) return
        const all = chunks.length === 1 ? head : Buffer.concat(chunks)
        const frame = all.subarray(4, 4 + length)
        const rest = all.subarray(4 + length)
        chunks = rest.byteLength > 0 ? [rest] : []
        buffered = rest.byteLength
        let message: unknown
        try {
          message = deserialize(frame)
        } catch (error) {
          options.onBadPayload(error, length)
          continue
        }
        options.onMessage(message)
      }
    },
  }
}
