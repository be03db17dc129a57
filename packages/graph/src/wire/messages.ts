// The GUN wire messages Coop speaks, as decoded (validated) values. GUN's shapes, field for field:
//   put   {"#": id, "put": Graph}                         a write (or, with "@", the answer to a get)
//   get   {"#": id, "get": {"#": soul, ".": key | lex}}   a read, also a subscription to the soul
//   ack   {"#": id, "@": id, "ok": 1 | "err": "…"}         the answer to a put (or "not found" for a get);
//                                                           Coop adds "refused": [{"#", ".", "code"}] to a put's err ack
//   dam   {"#": id, "dam": "?" | "!", "pid": …}            mesh control: hello (peer id) and errors
// A frame is one message (a JSON object) or a batch (a JSON array of messages).
import type { Graph, Soul } from '../types.ts'

/** A key selector inside a get (`"."`): GUN's lexical query. `prefix` is `*`, `start`/`end` are `>`/`<` (inclusive). */
export type KeyLex = { equals?: string; prefix?: string; start?: string; end?: string }

/** A soul selector inside a get (`"#"`): a soul, or GUN's lexical `{"*": prefix}` over souls. */
export type SoulQuery = { soul: Soul } | { soulPrefix: string }

export type WirePut = {
  kind: 'put'
  id: string
  /** Set when this put answers a get (`@` = the get's id). */
  ack?: string
  put: Graph
}

export type WireGet = {
  kind: 'get'
  id: string
  query: SoulQuery
  /** Absent: the whole node. A string: that key. An object: keys matching the lex. */
  key?: string | KeyLex
}

export type WireAck = {
  kind: 'ack'
  id: string
  ack: string
  ok?: unknown
  err?: string
  /** Coop's addition to an err ack of a put: the keys refused (signature, trust), at most 100 listed; the other keys were stored. */
  refused?: WireRefusal[]
}

/** One refused key of a put: `{"#": soul, ".": key, "code": GraphError code}`. */
export type WireRefusal = { '#': Soul; '.': string; code: string }

export type WireDam = {
  kind: 'dam'
  id: string
  dam: string
  /** The sender's mesh peer id (hello). */
  pid?: string
  /** Set by Coop peers in their hello: they replicate the whole graph both ways (GUN ignores the field). */
  coop?: number
  ack?: string
  err?: string
}

export type WireMessage = WirePut | WireGet | WireAck | WireDam

/** What `encodeMessage` writes: GUN's JSON field names. */
export type WireJson = Record<string, unknown>

/** The JSON form of a decoded message (GUN's field names). */
export function toWireJson(message: WireMessage): WireJson {
  switch (message.kind) {
    case 'put':
      return message.ack === undefined ? { '#': message.id, put: message.put } : { '#': message.id, '@': message.ack, put: message.put }
    case 'get': {
      const get: Record<string, unknown> = { '#': 'soul' in message.query ? message.query.soul : { '*': message.query.soulPrefix } }
      if (message.key !== undefined) get['.'] = typeof message.key === 'string' ? message.key : keyLexToJson(message.key)
      return { '#': message.id, get }
    }
    case 'ack': {
      const json: WireJson = { '#': message.id, '@': message.ack }
      if (message.err !== undefined) json.err = message.err
      else if (message.ok !== undefined) json.ok = message.ok
      if (message.refused !== undefined) json.refused = message.refused
      return json
    }
    case 'dam': {
      const json: WireJson = { '#': message.id, dam: message.dam }
      if (message.pid !== undefined) json.pid = message.pid
      if (message.coop !== undefined) json.coop = message.coop
      if (message.ack !== undefined) json['@'] = message.ack
      if (message.err !== undefined) json.err = message.err
      return json
    }
  }
}

function keyLexToJson(lex: KeyLex): Record<string, string> {
  const json: Record<string, string> = {}
  if (lex.equals !== undefined) json['='] = lex.equals
  if (lex.prefix !== undefined) json['*'] = lex.prefix
  if (lex.start !== undefined) json['>'] = lex.start
  if (lex.end !== undefined) json['<'] = lex.end
  return json
}

/** Does `key` satisfy the lex? (GUN: `=` exact, `*` prefix, `>`/`<` inclusive bounds; all given must hold.) */
export function keyMatches(key: string, lex: string | KeyLex): boolean {
  if (typeof lex === 'string') return key === lex
  if (lex.equals !== undefined && key !== lex.equals) return false
  if (lex.prefix !== undefined && !key.startsWith(lex.prefix)) return false
  if (lex.start !== undefined && key < lex.start) return false
  if (lex.end !== undefined && key > lex.end) return false
  return true
}
