// Gossip with signed envelopes on top of gossipsub. The envelope (type = topic) is the gossipsub
// message data; a topic validator verifies it before gossipsub accepts or forwards the message, so
// invalid messages are neither delivered nor propagated, and their sender is penalised by
// gossipsub's peer scoring (Reject). STALE is reported as Ignore: late delivery is not an attack.
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import type { Startable } from '@libp2p/interface'

import { signEnvelope, verifyEnvelope, type EnvelopeAccount, type VerifiedMessage } from '../envelope.ts'
import { isP2pError } from '../errors.ts'
import { checkTopic, describeError, recordDrop, type Counters, type P2pLogger } from '../internal.ts'

export type GossipHandler = (message: VerifiedMessage) => void

/** What the service needs from libp2p: the gossipsub service registered as `pubsub`. */
export interface GossipComponents {
  pubsub: Pick<GossipSub, 'subscribe' | 'unsubscribe' | 'publish' | 'topicValidators' | 'addEventListener' | 'removeEventListener'>
}

export interface GossipInit {
  account: EnvelopeAccount
  maxMessageBytes: number
  maxClockSkewMs: number
  counters: Counters
  logger: P2pLogger
}

export class GossipService implements Startable {
  readonly [Symbol.toStringTag] = '@coop/p2p/gossip'
  private readonly components: GossipComponents
  private readonly init: GossipInit
  private readonly handlers = new Map<string, Set<GossipHandler>>()
  /** Verified envelopes by gossipsub message object, from the validator to the 'message' event. */
  private readonly verified = new WeakMap<Message, VerifiedMessage>()
  private started = false

  constructor(components: GossipComponents, init: GossipInit) {
    this.components = components
    this.init = init
    this.onMessage = this.onMessage.bind(this)
  }

  start(): void {
    this.started = true
    this.components.pubsub.addEventListener('message', this.onMessage)
    for (const topic of this.handlers.keys()) this.join(topic)
  }

  stop(): void {
    this.started = false
    this.components.pubsub.removeEventListener('message', this.onMessage)
    for (const topic of this.handlers.keys()) this.components.pubsub.topicValidators.delete(topic)
  }

  subscribe(topic: string, handler: GossipHandler): void {
    checkTopic(topic)
    if (typeof handler !== 'function') throw new TypeError('handler must be a function')
    let set = this.handlers.get(topic)
    if (set === undefined) {
      set = new Set()
      this.handlers.set(topic, set)
      if (this.started) this.join(topic)
    }
    set.add(handler)
  }

  async publish(topic: string, body: unknown): Promise<void> {
    checkTopic(topic)
    const data = await signEnvelope(this.init.account, { type: topic, body, maxBytes: this.init.maxMessageBytes })
    await this.components.pubsub.publish(topic, data)
    this.init.counters.sent += 1
  }

  private join(topic: string): void {
    this.components.pubsub.topicValidators.set(topic, async (peer, message) => {
      try {
        const verified = await verifyEnvelope(message.data, {
          maxBytes: this.init.maxMessageBytes,
          maxClockSkewMs: this.init.maxClockSkewMs,
          type: message.topic,
        })
        this.verified.set(message, message.type === 'signed' ? { ...verified, peerId: message.from.toString() } : verified)
        return TopicValidatorResult.Accept
      } catch (error) {
        const dropped = recordDrop(this.init.counters, this.init.logger, error, { topic: message.topic, peer: peer.toString() })
        return dropped.code === 'STALE' ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
      }
    })
    this.components.pubsub.subscribe(topic)
  }

  private onMessage(event: CustomEvent<Message>): void {
    const message = event.detail
    const handlers = this.handlers.get(message.topic)
    const verified = this.verified.get(message)
    if (handlers === undefined || verified === undefined) return // not ours, or never validated (cannot happen: validator runs first)
    this.verified.delete(message)
    this.init.counters.received += 1
    for (const handler of handlers) {
      try {
        const result: unknown = handler(verified)
        if (isPromiseLike(result)) result.then(undefined, (error: unknown) => this.handlerFailed(message.topic, error))
      } catch (error) {
        this.handlerFailed(message.topic, error)
      }
    }
  }

  private handlerFailed(topic: string, error: unknown): void {
    this.init.logger.error({ topic, error: describeError(error), p2p: isP2pError(error) }, 'p2p gossip handler failed')
  }
}

/** libp2p service factory: `services: { pubsub: gossipsub(), gossip: coopGossip(init) }`. */
export function coopGossip(init: GossipInit): (components: GossipComponents) => GossipService {
  return (components) => new GossipService(components, init)
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}
