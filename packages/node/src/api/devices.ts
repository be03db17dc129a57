// Device endpoints of the node API (issue 4, "devices without wallets"; docs/scale.md):
//
//   POST /api/tasks/:id/payloads      body: the signed payload's dag-cbor bytes (signDevicePayload),
//                                     content-type application/cbor. The task's maxPayloadBytes is
//                                     enforced before buffering (declared length, then streamed).
//     200 → receipt { v, payloadCid, taskId, round, position, node, sig } (verifyReceipt)
//     errors → { error: { code, message, details } }: 413 TOO_LARGE · 400 MALFORMED / WRONG_TASK /
//     WRONG_ROUND · 401 BAD_SIGNATURE · 409 REPLAY · 422 REJECTED (the task's accept hook) · 503 ACCEPT_FAILED ·
//     415 UNSUPPORTED_MEDIA_TYPE · 404 NOT_INGEST_TASK / NO_NODE · 503 STORE_FAILED. Nothing is
//     stored on any error.
//   GET /api/tasks/:id/rounds/:cycle/proof/:position[?node=0x…]
//     200 → { taskId, cycle, node, position, root, digest, leafCount, leaf (0x hex block bytes),
//     leafCid, proof: { leafCid, path: [0x hex interior blocks, leaf's parent first] },
//     submission: { digest, status, txHash } | null,      (this node's submit intent)
//     head: { digest, bytes (0x hex) } | null }           (the cycle's final SCALE head, when held)
//     errors: 404 ROUND_NOT_FOUND / ROUND_NOT_BUILT, 410 LEAVES_PRUNED, 400 INDEX_OUT_OF_RANGE.
import type { IncomingMessage, ServerResponse } from 'node:http'

import type { DeviceReceipt } from '@coop/protocol'
import { bytesToHex, isAddress } from 'viem'

import { INGEST_HTTP_STATUS, isIngestError } from '../scale/ingest.ts'
import { isRoundStoreError, type LeafProof, type RoundStoreErrorCode } from '../scale/round-store.ts'
import { ApiError, readBody, sendJson } from './http.ts'

/** What the device endpoints need of a node (CoopNode provides it as `node.devices`). */
export interface DeviceService {
  /** The task's maxPayloadBytes, or undefined when this node does not ingest for the task. */
  maxPayloadBytes(taskId: string): number | undefined
  ingest(taskId: string, bytes: Uint8Array): Promise<DeviceReceipt>
  proveLeaf(taskId: string, cycle: number, position: number, node?: string): Promise<LeafProof & { node: string }>
  submission(taskId: string, cycle: number): { digest: string; status: string; txHash: string | null } | null
  /** The final SCALE head of the cycle this node holds (its digest is anchored on-chain), if any. */
  head?(taskId: string, cycle: number): { digest: string; bytes: Uint8Array } | undefined
}

const CBOR_TYPES = new Set(['application/cbor', 'application/octet-stream'])
const PROOF_STATUS: Record<RoundStoreErrorCode, number> = {
  ROUND_NOT_FOUND: 404,
  ROUND_NOT_BUILT: 404,
  LEAVES_PRUNED: 410,
  INDEX_OUT_OF_RANGE: 400,
  ROUND_SEALED: 409,
  POSITION_TAKEN: 409,
  BLOCK_MISSING: 500,
  BAD_ROUND: 500,
}

function sendTyped(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, details?: unknown, headers: Record<string, string> = {}): void {
  sendJson(req, res, status, { error: { code, message, ...(details === undefined ? {} : { details }) } }, headers)
}

/**
 * Serves the device endpoints; returns the route label, or undefined when the path is not one of
 * them (the caller goes on with its other routes).
 */
export async function handleDeviceRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  taskId: string,
  sub: string | undefined,
  rest: string[],
  devices: DeviceService | undefined,
): Promise<string | undefined> {
  if (sub === 'payloads' && rest.length === 0) {
    if (req.method !== 'POST') throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use POST`, { allow: 'POST' })
    if (!devices) throw new ApiError(404, 'NO_NODE', 'device payloads are posted to a node running the task; this API has no node')
    const max = devices.maxPayloadBytes(taskId)
    if (max === undefined) {
      sendTyped(req, res, INGEST_HTTP_STATUS.NOT_INGEST_TASK, 'NOT_INGEST_TASK', `this node does not ingest device payloads for task ${taskId}`)
      req.resume()
      return 'payloads'
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (!CBOR_TYPES.has(type)) {
      req.resume()
      throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'post the signed payload bytes with content-type: application/cbor')
    }
    let body: Buffer
    try {
      body = await readBody(req, max)
    } catch (error) {
      if (error instanceof ApiError && error.code === 'BODY_TOO_LARGE') {
        sendTyped(req, res, 413, 'TOO_LARGE', `payload exceeds the task's maxPayloadBytes (${max})`, { maxBytes: max }, { connection: 'close' })
        return 'payloads'
      }
      throw error
    }
    try {
      const receipt = await devices.ingest(taskId, new Uint8Array(body.buffer, body.byteOffset, body.byteLength))
      sendJson(req, res, 200, receipt)
    } catch (error) {
      if (!isIngestError(error)) throw error
      sendTyped(req, res, error.status, error.code, error.shortMessage, error.details)
    }
    return 'payloads'
  }
  if (sub === 'rounds' && rest.length === 3 && rest[1] === 'proof') {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use GET`, { allow: 'GET, HEAD' })
    if (!devices) throw new ApiError(404, 'NO_NODE', 'leaf proofs are served by a node holding the round; this API has no node')
    const [cycleText, , positionText] = rest as [string, string, string]
    if (!/^[0-9]{1,15}$/.test(cycleText) || !/^[0-9]{1,9}$/.test(positionText)) {
      throw new ApiError(400, 'BAD_PARAM', 'cycle and position must be non-negative integers')
    }
    const nodeParam = url.searchParams.get('node') ?? undefined
    if (nodeParam !== undefined && !isAddress(nodeParam, { strict: false })) throw new ApiError(400, 'BAD_PARAM', 'node must be an address')
    const cycle = Number(cycleText)
    const position = Number(positionText)
    let proof: LeafProof & { node: string }
    try {
      proof = await devices.proveLeaf(taskId, cycle, position, nodeParam)
    } catch (error) {
      if (!isRoundStoreError(error)) throw error
      sendTyped(req, res, PROOF_STATUS[error.code], error.code, error.shortMessage, error.details)
      return 'proof'
    }
    sendJson(req, res, 200, {
      taskId,
      cycle,
      node: proof.node,
      position,
      root: proof.root,
      digest: proof.digest,
      leafCount: proof.leafCount,
      leaf: bytesToHex(proof.leaf),
      leafCid: proof.leafCid,
      proof: { leafCid: proof.proof.leafCid, path: proof.proof.path.map((entry) => bytesToHex(entry.block)) },
      submission: nodeParam === undefined ? devices.submission(taskId, cycle) : null,
      head: devices.head?.(taskId, cycle) ?? null,
    })
    return 'proof'
  }
  return undefined
}
