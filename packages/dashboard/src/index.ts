// @coop/dashboard: a static web UI (public/: index.html, app.js, style.css; no build step) served
// by the node's API at `/`. It reads /api/* and follows /ws.
import { fileURLToPath } from 'node:url'

/** Absolute path of the dashboard's static files. */
export const dashboardDir: string = fileURLToPath(new URL('../public/', import.meta.url))
