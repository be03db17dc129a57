// The dashboard's static files: GET/HEAD only, no directory listing, no path escaping the root.
import { readFile, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

import { ApiError, baseHeaders } from './http.ts'

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
}

/** The dashboard shipped with @coop/dashboard, if it is installed. */
export function defaultDashboardDir(): string | undefined {
  try {
    return fileURLToPath(new URL('../public/', import.meta.resolve('@coop/dashboard')))
  } catch {
    return undefined
  }
}

export const dashboardCsp = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  root: string | undefined,
  pathname: string,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here`, { allow: 'GET, HEAD' })
  }
  if (!root) throw new ApiError(404, 'NOT_FOUND', 'no dashboard is installed (pass dashboardDir)')
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  } catch {
    throw new ApiError(400, 'BAD_URL', 'malformed percent-encoding in the path')
  }
  if (decoded.includes('\0')) throw new ApiError(400, 'BAD_URL', 'NUL in the path')
  const base = resolve(root)
  let file = resolve(base, `.${decoded.endsWith('/') ? `${decoded}index.html` : decoded}`)
  if (file !== base && !file.startsWith(base + sep)) throw new ApiError(404, 'NOT_FOUND', `no such file: ${pathname}`)
  let info = await stat(file).catch(() => undefined)
  if (info?.isDirectory()) {
    file = resolve(file, 'index.html')
    info = await stat(file).catch(() => undefined)
  }
  if (!info?.isFile()) throw new ApiError(404, 'NOT_FOUND', `no such file: ${pathname}`)
  const body = await readFile(file)
  const type = types[extname(file).toLowerCase()] ?? 'application/octet-stream'
  res.writeHead(200, {
    ...baseHeaders,
    'cache-control': 'no-cache',
    'content-type': type,
    'content-length': String(body.length),
    ...(type.startsWith('text/html') ? { 'content-security-policy': dashboardCsp, 'x-frame-options': 'DENY' } : {}),
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}
