// Typed errors: contract reverts decoded into ContractRevertedError (before anything is sent),
// and an unreachable or silent RPC giving RpcUnavailableError after bounded retries.
import assert from 'node:assert/strict'
import { createServer as createHttpServer } from 'node:http'
import { after, before, test } from 'node:test'

import { createWalletClient, encodeErrorResult, http, HttpRequestError, keccak256, parseUnits, publicActions, stringToHex } from 'viem'
import { foundry } from 'viem/chains'
import { privateKeyToAccount } from 'viem/accounts'

import {
  coopErrorsAbi,
  ContractRevertedError,
  CoopChainError,
  createCoopClient,
  decodeRevert,
  findFreePort,
  getNode,
  getP2pAddress,
  getTask,
  isContractError,
  registerNode,
  RpcUnavailableError,
  setChainTime,
  stake,
  submit,
  taskParams,
  toCoopChainError,
  withRetry,
} from '../src/index.ts'
import { rejection, startDevnet, type Devnet, type TestNode } from './helpers.ts'

let net: Devnet
let taskId: bigint
let startTime: bigint
let roundLength: bigint
let staked: TestNode
let unstaked: TestNode
let unregistered: TestNode
const root = keccak256(stringToHex('work'))

before(async () => {
  net = await startDevnet(3)
  ;[staked, unstaked, unregistered] = net.nodes as [TestNode, TestNode, TestNode]
  const params = taskParams({ stakeToken: net.addresses.coopToken, rewardToken: net.addresses.rewardToken })
  const created = await net.coop.createTask({ params, bounty: params.bountyPerRound * 2n })
  taskId = created.taskId
  startTime = created.startTime
  roundLength = params.roundLength
  await staked.coop.stake({ taskId, amount: parseUnits('1000', 18) })
  await staked.coop.registerNode({ p2pAddress: '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWstaked' })
  await unstaked.coop.registerNode({ p2pAddress: '/ip4/127.0.0.1/tcp/4002/p2p/12D3KooWunstaked' })
  await unregistered.coop.stake({ taskId, amount: parseUnits('1000', 18) })
})
after(async () => {
  await net?.stop()
})

async function nonceOf(node: TestNode): Promise<number> {
  return node.client.getTransactionCount({ address: node.address })
}

test('OutsideSubmissionWindow: typed name and args, nothing sent', async () => {
  const nonce = await nonceOf(staked)
  const error = await rejection(() => staked.coop.submit({ taskId, cycle: 0n, root }))
  assert.ok(error instanceof ContractRevertedError)
  assert.ok(error instanceof CoopChainError)
  assert.equal(error.code, 'CONTRACT_REVERTED')
  assert.ok(isContractError(error, 'OutsideSubmissionWindow'))
  const [cycle, nowTime, opensAt, closesAt] = error.args
  assert.equal(cycle, 0n)
  assert.equal(opensAt, startTime + roundLength)
  assert.equal(closesAt, opensAt + 600n)
  assert.ok(nowTime < opensAt)
  assert.equal(error.params.opensAt, opensAt)
  assert.equal(error.functionName, 'submit')
  assert.equal(error.contractAddress?.toLowerCase(), net.addresses.taskManager.toLowerCase())
  assert.equal(error.sender, staked.address)
  assert.match(error.shortMessage, /^submit reverted: OutsideSubmissionWindow\(cycle=0, nowTime=\d+/)
  assert.match(error.message, /Hint: +Submit cycle c during/)
  assert.equal(await nonceOf(staked), nonce, 'a reverting call is never sent')
})

test('InsufficientStake, NotRegistered, AlreadySubmitted inside the window', async () => {
  await setChainTime(net.time, startTime + roundLength)
  const noStake = await rejection(() => unstaked.coop.submit({ taskId, cycle: 0n, root }))
  assert.ok(isContractError(noStake, 'InsufficientStake'))
  assert.deepEqual(noStake.args, [0n, parseUnits('100', 18)])

  const noP2p = await rejection(() => unregistered.coop.submit({ taskId, cycle: 0n, root }))
  assert.ok(isContractError(noP2p, 'NotRegistered'))
  assert.equal(noP2p.args[0], unregistered.address)

  await staked.coop.submit({ taskId, cycle: 0n, root })
  const twice = await rejection(() => staked.coop.submit({ taskId, cycle: 0n, root }))
  assert.ok(isContractError(twice, 'AlreadySubmitted'))
  assert.deepEqual(twice.args, [taskId, 0n, staked.address])

  const empty = await rejection(() => unregistered.coop.submit({ taskId, cycle: 0n, root: `0x${'0'.repeat(64)}` }))
  assert.ok(isContractError(empty, 'EmptyRoot'))
})

test('errors bubbling up from the token decode too (ERC20InsufficientAllowance)', async () => {
  const error = await rejection(() =>
    stake(net.creator, { address: net.addresses.taskManager, taskId, amount: 1n }),
  )
  // The creator holds COOP but never approved the manager for it.
  assert.ok(isContractError(error, 'ERC20InsufficientAllowance'))
  assert.equal(error.args[0], net.addresses.taskManager)
  assert.equal(error.args[2], 1n)
})

test('unknown task and missing audit', async () => {
  const noTask = await rejection(() => getTask(net.creator, { address: net.addresses.taskManager, taskId: 99n }))
  assert.ok(isContractError(noTask, 'TaskNotFound'))
  assert.equal(noTask.functionName, 'getTask')
  const noAudit = await rejection(() => net.coop.vote({ auditId: 7n, side: 'uphold' }))
  assert.ok(isContractError(noAudit, 'AuditNotFound'))
})

test('decodeRevert handles custom errors, Error(string), Panic and junk', () => {
  const custom = encodeErrorResult({ abi: coopErrorsAbi, errorName: 'StakeLocked', args: [1n, staked.address, 6n] })
  assert.deepEqual(decodeRevert(custom), { errorName: 'StakeLocked', args: [1n, staked.address, 6n] })
  const reason = encodeErrorResult({
    abi: [{ type: 'error', name: 'Error', inputs: [{ name: 'message', type: 'string' }] }],
    errorName: 'Error',
    args: ['nope'],
  })
  assert.equal(decodeRevert(reason).reason, 'nope')
  const panic = encodeErrorResult({
    abi: [{ type: 'error', name: 'Panic', inputs: [{ name: 'code', type: 'uint256' }] }],
    errorName: 'Panic',
    args: [0x11n],
  })
  assert.deepEqual(decodeRevert(panic), { errorName: 'Panic', args: [0x11n], reason: 'arithmetic overflow or underflow' })
  assert.equal(decodeRevert('0xdeadbeef').errorName, 'Unknown')
  assert.equal(decodeRevert(undefined).errorName, 'Unknown')
})

test('an unreachable RPC gives RpcUnavailableError after the retries, not a hang', async () => {
  const port = await findFreePort() // free: nothing listens there
  const client = createCoopClient({
    rpcUrl: `http://127.0.0.1:${port}`,
    account: privateKeyToAccount(net.anvil.accounts[1]!.privateKey),
  })
  const started = Date.now()
  const read = await rejection(() => getNode(client, { address: net.addresses.taskManager, taskId: 1n, node: staked.address }))
  assert.ok(read instanceof RpcUnavailableError, String(read))
  assert.equal(read.code, 'RPC_UNAVAILABLE')
  assert.equal(read.attempts, 4) // 1 + 3 retries
  assert.ok(read.url?.startsWith(`http://127.0.0.1:${port}`))
  assert.ok(Date.now() - started < 5_000)

  const write = await rejection(() =>
    submit(client, { address: net.addresses.taskManager, taskId: 1n, cycle: 0n, root, retry: { retries: 1, initialDelayMs: 10 } }),
  )
  assert.ok(write instanceof RpcUnavailableError)
  assert.equal(write.attempts, 2)
})

test('an RPC that accepts but never answers times out into RpcUnavailableError', async () => {
  const sockets = new Set<import('node:net').Socket>()
  const server = createHttpServer(() => {}) // never responds
  server.on('connection', (socket) => sockets.add(socket))
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  )
  try {
    const client = createCoopClient({ rpcUrl: `http://127.0.0.1:${port}`, account: net.anvil.accounts[1]!.privateKey, timeout: 200 })
    const started = Date.now()
    const error = await rejection(() =>
      getTask(client, { address: net.addresses.taskManager, taskId: 1n, retry: { retries: 2, initialDelayMs: 10 } }),
    )
    assert.ok(error instanceof RpcUnavailableError, String(error))
    assert.equal(error.attempts, 3)
    assert.ok(Date.now() - started < 3_000)
  } finally {
    for (const socket of sockets) socket.destroy()
    server.close()
  }
})

test('withRetry recovers from transient failures and gives up at once on others', async () => {
  let calls = 0
  const value = await withRetry(
    async () => {
      calls += 1
      if (calls < 3) throw new HttpRequestError({ url: 'http://127.0.0.1:1', details: 'fetch failed' })
      return 'ok'
    },
    { initialDelayMs: 1 },
  )
  assert.equal(value, 'ok')
  assert.equal(calls, 3)

  let failures = 0
  const error = await rejection(() =>
    withRetry(async () => {
      failures += 1
      throw new Error('not transient')
    }),
  )
  assert.equal(failures, 1)
  assert.ok(error instanceof CoopChainError)
  assert.equal(toCoopChainError(error), error)
})

test('JSON-RPC accounts (anvil unlocked) write through the node, reverts still typed', async () => {
  const address = net.anvil.accounts[4]!.address
  const client = createWalletClient({ account: address, chain: foundry, transport: http(net.anvil.rpcUrl) }).extend(publicActions)
  assert.equal(client.account.type, 'json-rpc')
  const registered = await registerNode(client, { address: net.addresses.taskManager, p2pAddress: '/ip4/127.0.0.1/tcp/4005/p2p/12D3KooWrpc' })
  assert.equal(registered.receipt.from.toLowerCase(), address.toLowerCase())
  assert.equal(await getP2pAddress(client, { address: net.addresses.taskManager, node: address }), '/ip4/127.0.0.1/tcp/4005/p2p/12D3KooWrpc')
  const empty = await rejection(() => registerNode(client, { address: net.addresses.taskManager, p2pAddress: '' }))
  assert.ok(isContractError(empty, 'EmptyP2pAddress'))
})
