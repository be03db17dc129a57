// The SandboxHost a task program talks to: its kv lives in the node's SQLite state, its blocks in
// the node's content store; sign() uses the node key inside the node (the program never sees it);
// request() is a signed p2p call to another node's task route.
import type { ContentStore, SandboxHost } from '@coop/sdk'
import type { Address } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'

import type { Behaviour } from '../config.ts'
import type { Logger } from '../logger.ts'
import type { NodeStore } from '../state/store.ts'

export function createSandboxHost(options: {
  taskId: string
  account: PrivateKeyAccount
  behaviour: Behaviour
  config: Record<string, unknown>
  store: NodeStore
  content: ContentStore
  request: (node: Address, path: string, body: unknown) => Promise<unknown>
  logger: Logger
}): SandboxHost {
  const { taskId, store, content, logger } = options
  const log = (level: 'info' | 'warn' | 'error') => (msg: string, data?: unknown) => logger[level]({ program: true, data }, msg)
  return {
    address: options.account.address,
    behaviour: options.behaviour,
    config: options.config,
    kv: {
      get: async (key) => store.kvGet(taskId, key),
      put: async (key, value) => store.kvPut(taskId, key, value),
      delete: async (key) => store.kvDelete(taskId, key),
      list: async (prefix) => store.kvList(taskId, prefix),
    },
    store: {
      put: (value) => content.put(value),
      get: (cid) => content.get(cid),
    },
    sign: async (message) =>
      options.account.signMessage({ message: typeof message === 'string' ? message : { raw: message } }),
    request: (node, path, body) => options.request(node, path, body),
    log: { info: log('info'), warn: log('warn'), error: log('error') },
  }
}
