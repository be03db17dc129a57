// A small deterministic web site on 127.0.0.1 for the web-archive task: `/page/<n>` for n in
// [0, pages), each the same bytes on every request and every run (text from a seeded PRNG, links to
// other pages), plus `/` (an index linking every page) and `/sitemap.json`.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Site = {
  url: string
  port: number
  pages: number
  /** Requests served, per path (tests and the summary use it). */
  hits(): Map<string, number>
  stop(): Promise<void>
}

const words = (
  'cooperative compute network node round audit stake reward ledger archive page content address ' +
  'merkle proof distribution reputation honest sample vote slash bounty cycle submission worker ' +
  'peer signature block chain task program sandbox storage bandwidth device community open'
).split(' ')

/** mulberry32: a tiny deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The HTML of page `n` (pure: same input, same bytes). */
export function pageHtml(n: number, pages: number): string {
  const random = prng(0xc00b + n * 7919)
  const pick = () => words[Math.floor(random() * words.length)]!
  const sentence = () => {
    const length = 6 + Math.floor(random() * 10)
    const text = Array.from({ length }, pick).join(' ')
    return `${text[0]!.toUpperCase()}${text.slice(1)}.`
  }
  const paragraphs = Array.from({ length: 2 + (n % 4) }, () => `<p>${Array.from({ length: 3 + Math.floor(random() * 3) }, sentence).join(' ')}</p>`)
  const links = Array.from({ length: 3 }, (_, i) => (n * 13 + i * 17 + 1) % pages).map((target) => `<a href="/page/${target}">page ${target}</a>`)
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>Coop devnet page ${n}</title></head>`,
    `<body><h1>Page ${n}: ${pick()} ${pick()}</h1>`,
    ...paragraphs,
    `<nav>${links.join(' · ')}</nav>`,
    '</body></html>',
    '',
  ].join('\n')
}

function indexHtml(pages: number): string {
  const items = Array.from({ length: pages }, (_, n) => `<li><a href="/page/${n}">page ${n}</a></li>`)
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Coop devnet site</title></head>\n<body><h1>Coop devnet site</h1><ul>\n${items.join('\n')}\n</ul></body></html>\n`
}

/** Starts the site on 127.0.0.1 (`port` 0 = random). */
export async function startSite(options: { port?: number; pages?: number } = {}): Promise<Site> {
  const pages = options.pages ?? 50
  const hits = new Map<string, number>()
  const rendered = new Map<number, Buffer>()
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!
    hits.set(path, (hits.get(path) ?? 0) + 1)
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    const send = (status: number, type: string, body: string | Buffer) => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body
      response.writeHead(status, { 'content-type': type, 'content-length': bytes.byteLength, 'cache-control': 'no-store' })
      response.end(request.method === 'HEAD' ? undefined : bytes)
    }
    const match = /^\/page\/(\d+)$/.exec(path)
    if (match) {
      const n = Number(match[1])
      if (n >= pages) return send(404, 'text/plain; charset=utf-8', `no page ${n} (pages 0–${pages - 1})\n`)
      let body = rendered.get(n)
      if (!body) {
        body = Buffer.from(pageHtml(n, pages))
        rendered.set(n, body)
      }
      return send(200, 'text/html; charset=utf-8', body)
    }
    if (path === '/') return send(200, 'text/html; charset=utf-8', indexHtml(pages))
    if (path === '/sitemap.json') {
      return send(200, 'application/json', JSON.stringify({ pages: Array.from({ length: pages }, (_, n) => `/page/${n}`) }))
    }
    return send(404, 'text/plain; charset=utf-8', 'not found\n')
  })
  server.keepAliveTimeout = 1_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  let stopping: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pages,
    hits: () => new Map(hits),
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })),
  }
}
