// Example task: a cooperative web archive. Each cycle every node archives the pages of a site
// assigned to it (deterministic from the cycle and its address), stores each body content-
// addressed and submits the list; auditors re-fetch a seeded sample, compare CIDs, and ask the
// submitter to serve the stored pages.
import { randomBytes } from 'node:crypto'
import {
  type Address,
  type AuditVerdict,
  type RoundInfo,
  type TaskContext,
  configInt,
  defaultDistribution,
  defineTask,
  rawCid,
  samplePositions,
  shouldCheat,
  submissionRoot,
} from '@coop/sdk'

export type ArchivedPage = { url: string; cid: string; bytes: number }
export type ArchiveSubmission = { v: 1; cycle: number; pages: ArchivedPage[] }

export type ArchiveConfig = {
  /** Base URL of the site (required), e.g. http://127.0.0.1:8080; pages are <siteUrl>/page/<n>. */
  siteUrl: string
  /** Pages on the site: n in [0, sitePages). Default 100. */
  sitePages: number
  /** Pages each node archives per cycle. Default 5. */
  pagesPerRound: number
  /** Pages an auditor re-fetches and asks the submitter for. Default 2. */
  auditSample: number
  fetchTimeoutMs: number
  maxPageBytes: number
}

export function archiveConfig(ctx: Pick<TaskContext, 'config'>): ArchiveConfig {
  const c = ctx.config
  if (typeof c.siteUrl !== 'string' || !/^https?:\/\//.test(c.siteUrl)) {
    throw new Error('web-archive: config.siteUrl must be an http(s) URL')
  }
  const sitePages = configInt(c.sitePages, 100, 1, 1_000_000)
  return {
    siteUrl: c.siteUrl.replace(/\/+$/, ''),
    sitePages,
    pagesPerRound: Math.min(configInt(c.pagesPerRound, 5, 1, 1000), sitePages),
    auditSample: configInt(c.auditSample, 2, 1, 1000),
    fetchTimeoutMs: configInt(c.fetchTimeoutMs, 10_000, 100, 120_000),
    maxPageBytes: configInt(c.maxPageBytes, 1 << 20, 1, 64 << 20),
  }
}

/** The URLs `node` must archive in `cycle`: nobody picks their own pages. */
export function assignedPages(config: ArchiveConfig, taskId: bigint, cycle: number, node: Address): string[] {
  return samplePositions(`coop.web-archive|${taskId}|${cycle}`, config.pagesPerRound, config.sitePages, node.toLowerCase()).map(
    (n) => `${config.siteUrl}/page/${n}`,
  )
}

/** GET with a timeout and a size cap. */
export async function fetchPage(url: string, config: ArchiveConfig): Promise<Uint8Array> {
  const response = await fetch(url, { signal: AbortSignal.timeout(config.fetchTimeoutMs), redirect: 'error' })
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`)
  const declared = Number(response.headers.get('content-length') ?? 0)
  if (declared > config.maxPageBytes) throw new Error(`GET ${url}: ${declared} bytes is over the limit`)
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of response.body ?? []) {
    total += chunk.byteLength
    if (total > config.maxPageBytes) throw new Error(`GET ${url}: over ${config.maxPageBytes} bytes`)
    chunks.push(chunk)
  }
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

const archiveKey = (cycle: number) => `archive/${String(cycle).padStart(12, '0')}`

async function archive(round: RoundInfo, ctx: TaskContext): Promise<ArchivedPage[]> {
  const config = archiveConfig(ctx)
  const urls = assignedPages(config, round.taskId, round.cycle, ctx.address)
  if (shouldCheat(round, ctx)) {
    // A cheater skips the crawl and makes up CIDs.
    return urls.map((url) => {
      const fake = new Uint8Array(randomBytes(64))
      return { url, cid: rawCid(fake), bytes: 1000 + (fake[0] ?? 0) }
    })
  }
  const pages: ArchivedPage[] = []
  for (const url of urls) {
    let bytes: Uint8Array
    try {
      bytes = await fetchPage(url, config)
    } catch (first) {
      ctx.log.warn('fetch failed, retrying once', { url, error: String(first) })
      bytes = await fetchPage(url, config)
    }
    pages.push({ url, cid: await ctx.store.put(bytes), bytes: bytes.byteLength })
  }
  return pages
}

async function askForPage(ctx: TaskContext, submitter: Address, cid: string): Promise<unknown> {
  try {
    return await ctx.request(submitter, 'page', { cid })
  } catch {
    return ctx.request(submitter, 'page', { cid }) // one retry; a second failure counts
  }
}

export default defineTask<ArchiveSubmission>({
  name: 'web-archive',

  async work(round, ctx) {
    const pages = await archive(round, ctx)
    await ctx.kv.put(archiveKey(round.cycle), pages)
    ctx.log.info('archived', { cycle: round.cycle, pages: pages.length })
  },

  async submission(round, ctx) {
    const pages = ((await ctx.kv.get(archiveKey(round.cycle))) as ArchivedPage[] | undefined) ?? (await archive(round, ctx))
    return { v: 1, cycle: round.cycle, pages }
  },

  async audit(submission, round, submitter, ctx): Promise<AuditVerdict> {
    const config = archiveConfig(ctx)
    const s = submission as Partial<ArchiveSubmission> | null
    if (!s || typeof s !== 'object' || s.v !== 1 || !Array.isArray(s.pages)) return { ok: false, reason: 'malformed submission' }
    if (s.cycle !== round.cycle) return { ok: false, reason: 'wrong cycle', evidence: { claimed: s.cycle, expected: round.cycle } }
    const expected = assignedPages(config, round.taskId, round.cycle, submitter)
    const claimed = s.pages.map((page) => (page && typeof page === 'object' ? page.url : undefined))
    if (claimed.length !== expected.length || claimed.some((url, i) => url !== expected[i])) {
      return { ok: false, reason: 'pages are not the assigned ones', evidence: { claimed, expected } }
    }
    for (const page of s.pages) {
      if (typeof page.cid !== 'string' || !Number.isSafeInteger(page.bytes)) return { ok: false, reason: 'malformed page entry', evidence: { url: page.url } }
    }
    const seed = round.seed ?? submissionRoot(submission).digest
    for (const index of samplePositions(seed, config.auditSample, s.pages.length, submitter.toLowerCase())) {
      const page = s.pages[index] as ArchivedPage
      // 1. Re-fetch: the content must hash to the claimed CID. If the auditor itself cannot
      //    reach the site it does not accuse anybody.
      let observed: string | undefined
      try {
        const bytes = await fetchPage(page.url, config)
        observed = rawCid(bytes)
        if (observed !== page.cid || bytes.byteLength !== page.bytes) {
          return {
            ok: false,
            reason: 'archived content does not match the page',
            evidence: { url: page.url, claimedCid: page.cid, observedCid: observed, claimedBytes: page.bytes, observedBytes: bytes.byteLength },
          }
        }
      } catch (error) {
        ctx.log.warn('could not re-fetch a sampled page', { url: page.url, error: String(error) })
      }
      // 2. The submitter must serve what it claims to have stored.
      let answer: unknown
      try {
        answer = await askForPage(ctx, submitter, page.cid)
      } catch (error) {
        return { ok: false, reason: 'submitter did not answer for a stored page', evidence: { url: page.url, cid: page.cid, error: String(error) } }
      }
      const served = answer as { found?: unknown; bytes?: unknown } | null
      if (!served || served.found !== true || !(served.bytes instanceof Uint8Array)) {
        return { ok: false, reason: 'submitter does not have the page it claims', evidence: { url: page.url, cid: page.cid } }
      }
      if (rawCid(served.bytes) !== page.cid) {
        return { ok: false, reason: 'served page does not hash to its CID', evidence: { url: page.url, cid: page.cid, servedCid: rawCid(served.bytes) } }
      }
    }
    return { ok: true }
  },

  async distribution(submitters, bounty) {
    return defaultDistribution(submitters, bounty)
  },

  routes: {
    /** body { cid } → { found: true, bytes } | { found: false }: serves an archived page from the store. */
    async page(request, ctx) {
      const cid = (request.body as { cid?: unknown } | null)?.cid ?? request.query.cid
      if (typeof cid !== 'string') return { found: false }
      try {
        const bytes = await ctx.store.get(cid)
        return bytes instanceof Uint8Array ? { found: true, bytes } : { found: false }
      } catch {
        return { found: false }
      }
    },
    /** body/query { cycle } → this node's archive list for the cycle. */
    async archive(request, ctx) {
      const raw = (request.body as { cycle?: unknown } | null)?.cycle ?? request.query.cycle
      const cycle = Number(raw)
      if (!Number.isSafeInteger(cycle) || cycle < 0) return { pages: [] }
      return { cycle, pages: ((await ctx.kv.get(archiveKey(cycle))) as ArchivedPage[] | undefined) ?? [] }
    },
  },
})
