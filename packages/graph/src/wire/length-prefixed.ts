// Length-prefixed frames for byte streams (libp2p): an unsigned LEB128 varint length, then that many
// bytes (the framing of it-length-prefixed). The decoder is incremental and bounded: a frame
// declared larger than `maxFrameBytes` is reported and its bytes skipped without being buffered,
// so the stream stays usable (the framing is intact); only a broken length prefix is fatal.
import { GraphError } from '../errors.ts'

export type DecodedChunk = { frame: Uint8Array } | { tooLarge: number }

const MAX_VARINT_BYTES = 8 // 2^56: far beyond any frame we would accept

export function encodeLengthPrefixed(payload: Uint8Array): Uint8Array {
  let length = payload.byteLength
  const header: number[] = []
  do {
    let byte = length & 0x7f
    length = Math.floor(length / 128)
    if (length > 0) byte |= 0x80
    header.push(byte)
  } while (length > 0)
  const out = new Uint8Array(header.length + payload.byteLength)
  out.set(header, 0)
  out.set(payload, header.length)
  return out
}

export class LengthPrefixedDecoder {
  private readonly maxFrameBytes: number
  private header = 0
  private headerShift = 1
  private headerBytes = 0
  /** Bytes still expected for the current frame body (or to skip); -1 while reading a header. */
  private remaining = -1
  private skipping = false
  private parts: Uint8Array[] = []
  private partsLength = 0

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes
  }

  /** Feeds bytes; returns the frames (and oversized-frame reports) they complete. Throws GraphError MALFORMED on a bad prefix. */
  push(chunk: Uint8Array): DecodedChunk[] {
    const out: DecodedChunk[] = []
    let offset = 0
    while (offset < chunk.byteLength) {
      if (this.remaining < 0) {
        const byte = chunk[offset++]!
        this.header += (byte & 0x7f) * this.headerShift
        this.headerShift *= 128
        this.headerBytes += 1
        if (byte & 0x80) {
          if (this.headerBytes >= MAX_VARINT_BYTES) throw new GraphError('MALFORMED', 'frame length prefix is too long')
          continue
        }
        const length = this.header
        this.header = 0
        this.headerShift = 1
        this.headerBytes = 0
        if (length > this.maxFrameBytes) {
          out.push({ tooLarge: length })
          this.skipping = true
        } else {
          this.skipping = false
        }
        this.remaining = length
        if (length === 0) {
          if (!this.skipping) out.push({ frame: new Uint8Array(0) })
          this.remaining = -1
        }
        continue
      }
      const take = Math.min(this.remaining, chunk.byteLength - offset)
      if (!this.skipping) {
        this.parts.push(chunk.subarray(offset, offset + take))
        this.partsLength += take
      }
      offset += take
      this.remaining -= take
      if (this.remaining === 0) {
        if (!this.skipping) out.push({ frame: this.takeParts() })
        this.remaining = -1
      }
    }
    return out
  }

  private takeParts(): Uint8Array {
    const parts = this.parts
    const length = this.partsLength
    this.parts = []
    this.partsLength = 0
    if (parts.length === 1) return parts[0]!
    const frame = new Uint8Array(length)
    let at = 0
    for (const part of parts) {
      frame.set(part, at)
      at += part.byteLength
    }
    return frame
  }
}
