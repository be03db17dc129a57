// Crash safety of on-chain actions, against a real anvil: every transaction is an intent first,
// its signed bytes are stored before they are sent, and a restart reconciles whatever was left
// open with the chain — never losing an action, never sending one twice.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { approveErc20, coopActions, createCoopClient, createCoopTestClient, setChainTime, taskManagerAbi, type CoopActions } from '@coop/chain'
import { roundStart } from '@coop/protocol'
import { encodeFunctionData, keccak256, maxUint256, parseUnits, type Hex } from 'viem'
import { getTransactionCount, prepareTransactionRequest, sendRawTransaction } from 'viem/actions'

import { createNodeChain, type NodeChain } from '../src/chain/client.ts'
import { intentEffectDone } from '../src/chain/effects.ts'
import { TxSender } from '../src/chain/tx.ts'
import { createLogger } from '../src/logger.ts'
import { openState, type NodeStore } from '../src/state/store.ts'
import { createTestTask, startTestChain, type TestChain } from './helpers.ts'

let devnet: TestChain
let chain: NodeChain
let store: NodeStore
let coop: CoopActions
const logger = createLogger({ name: 'reconcile-test', level: 'silent' })
const newSender = () => new TxSender(chain, store, logger, {}, (intent) => intentEffectDone(chain, intent))
const nonce = () => getTransactionCount(chain.client, { address: chain.account.address, blockTag: 'pending' })
const ma = (port: number) => `/ip4/127.0.0.1/tcp/${port}/p2p/12D3KooWSfrdC2eVGD9URZot2UGgbX6izh4dBjCx8wCyu7fJLARG`

/** What TxSender does before sending, stopped right there (the "crash"). */
async function signRegister(p2pAddress: string, fixedNonce?: number): Promise<{ raw: Hex; hash: Hex; nonce: number }> {
  const data = encodeFunctionData({ abi: taskManagerAbi, functionName: 'registerNode', args: [p2pAddress] })
  const prepared = await prepareTransactionRequest(chain.client, {
    account: chain.account,
    chain: chain.client.chain,
    to: devnet.addresses.taskManager,
    data,
    ...(fixedNonce === undefined ? {} : { nonce: fixedNonce }),
  })
  const raw = await chain.account.signTransaction(prepared as never)
  return { raw, hash: keccak256(raw), nonce: prepared.nonce }
}

function storeSent(p2pAddress: string, signed: { raw: Hex; hash: Hex; nonce: number }) {
  const { intent } = store.ensureIntent({ kind: 'register', taskId: '*', cycle: -1, key: p2pAddress }, { p2pAddress })
  return store.updateIntent(intent.id, { status: 'sent', rawTx: signed.raw, txHash: signed.hash, nonce: signed.nonce })
}

before(async () => {
  devnet = await startTestChain(2)
  const key = devnet.nodes[0]!.privateKey
  chain = await createNodeChain({ rpcUrl: devnet.anvil.rpcUrl, privateKey: key, addresses: devnet.addresses })
  coop = createCoopClient({ rpcUrl: devnet.anvil.rpcUrl, account: key }).extend(coopActions(devnet.addresses))
  store = openState(join(devnet.dir, 'state.sqlite'))
})
after(async () => {
  store?.close()
  await devnet?.stop()
})

describe('reconcile after a crash', () => {
  test('signed and stored but never sent: the same bytes are broadcast once', async () => {
    const before = await nonce()
    const signed = await signRegister(ma(1001))
    const intent = storeSent(ma(1001), signed)
    const { intent: settled, receipt } = await newSender().reconcile(intent)
    assert.equal(settled.status, 'confirmed')
    assert.equal(receipt?.transactionHash, signed.hash)
    assert.equal(await chain.coop.getP2pAddress({ node: chain.account.address }), ma(1001))
    assert.equal(await nonce(), before + 1)
  })

  test('sent but the receipt never seen: confirmed from the receipt, nothing re-sent', async () => {
    const before = await nonce()
    const signed = await signRegister(ma(1002))
    const intent = storeSent(ma(1002), signed)
    await sendRawTransaction(chain.client, { serializedTransaction: signed.raw })
    const { intent: settled } = await newSender().reconcile(intent)
    assert.equal(settled.status, 'confirmed')
    assert.equal(await nonce(), before + 1)
  })

  test('its nonce went to another transaction: back to pending, then sent anew exactly once', async () => {
    const before = await nonce()
    const signed = await signRegister(ma(1003), before)
    const intent = storeSent(ma(1003), signed)
    // Another transaction takes that nonce (e.g. sent by the same key from elsewhere).
    await coop.registerNode({ p2pAddress: ma(1999) })
    assert.equal(await nonce(), before + 1)
    const sender = newSender()
    const { intent: reset } = await sender.reconcile(intent)
    assert.equal(reset.status, 'pending')
    assert.equal(reset.txHash, null)
    const { intent: settled } = await sender.execute({ kind: 'register', taskId: '*', cycle: -1, key: ma(1003) }, { p2pAddress: ma(1003) }, { functionName: 'registerNode', args: [ma(1003)] })
    assert.equal(settled.status, 'confirmed')
    assert.equal(await chain.coop.getP2pAddress({ node: chain.account.address }), ma(1003))
    assert.equal(await nonce(), before + 2)
  })

  test('a pending intent whose effect is already on-chain is skipped without a transaction', async () => {
    const before = await nonce()
    const { intent } = store.ensureIntent({ kind: 'register', taskId: '*', cycle: -1, key: ma(1003) + '/again' }, { p2pAddress: ma(1003) })
    const { intent: settled } = await newSender().reconcile(intent)
    assert.equal(settled.status, 'skipped')
    assert.equal(await nonce(), before)
  })

  test('a completed intent is never executed again', async () => {
    const before = await nonce()
    const { intent } = await newSender().execute({ kind: 'register', taskId: '*', cycle: -1, key: ma(1001) }, { p2pAddress: ma(1001) }, { functionName: 'registerNode', args: [ma(1001)] })
    assert.equal(intent.status, 'confirmed', 'the intent of the first test, as it was')
    assert.equal(await nonce(), before)
  })
})

describe('intents against the contract rules', () => {
  let taskId: bigint
  let startTime: bigint

  before(async () => {
    const task = await createTestTask(devnet, { roundLength: 3_600n })
    taskId = task.taskId
    startTime = task.startTime
    await approveErc20(createCoopClient({ rpcUrl: devnet.anvil.rpcUrl, account: devnet.nodes[0]!.privateKey }), {
      address: devnet.addresses.coopToken,
      spender: devnet.addresses.taskManager,
      amount: maxUint256,
    })
    await coop.stake({ taskId, amount: parseUnits('500', 18) })
  })

  test('a real failure before sending is recorded, not retried at once, and sends nothing', async () => {
    const before = await nonce()
    const sender = newSender()
    const ref = { kind: 'submit' as const, taskId: taskId.toString(), cycle: 0 }
    const root = keccak256('0x01')
    const first = await sender.execute(ref, { root }, { functionName: 'submit', args: [taskId, 0n, root] })
    assert.equal(first.intent.status, 'failed')
    assert.match(first.intent.error ?? '', /OutsideSubmissionWindow/)
    assert.equal(first.revert?.errorName, 'OutsideSubmissionWindow')
    assert.equal(first.intent.txHash, null)
    const again = await sender.execute(ref, { root }, { functionName: 'submit', args: [taskId, 0n, root] })
    assert.equal(again.intent.attempts, 1, 'backoff: no second attempt right away')
    assert.equal(await nonce(), before)
  })

  test('concurrent executions of one intent send one transaction; an already-done action is skipped', async () => {
    const time = createCoopTestClient({ rpcUrl: devnet.anvil.rpcUrl })
    await setChainTime(time, roundStart(startTime, 3_600n, 2n))
    const before = await nonce()
    const sender = newSender()
    const root = keccak256('0x02')
    const ref = { kind: 'submit' as const, taskId: taskId.toString(), cycle: 1 }
    const call = { functionName: 'submit', args: [taskId, 1n, root] as const }
    const [a, b] = await Promise.all([sender.execute(ref, { root }, call), sender.execute(ref, { root }, call)])
    assert.equal(a.intent.id, b.intent.id)
    assert.equal(a.intent.status, 'confirmed')
    assert.equal(await nonce(), before + 1)
    assert.equal((await chain.coop.getSubmission({ taskId, cycle: 1n, node: chain.account.address })).root, root)

    // The same action under another key (e.g. a wiped state): the chain says it is done.
    const other = await sender.execute({ ...ref, key: 'wiped' }, { root }, call)
    assert.equal(other.intent.status, 'skipped')
    assert.match(other.intent.error ?? '', /AlreadySubmitted/)
    assert.equal(await nonce(), before + 1)
  })
})
