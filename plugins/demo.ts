import { join } from 'node:path'
import fp from 'fastify-plugin'
import fastifyStatic from '@fastify/static'
import { packageRoot } from '../src/paths.js'

export interface DemoPluginOptions {
  /** roomwire's own app (`buildApp`): the demo is on there unless DEMO_ENABLED=false. */
  standalone?: boolean
  /** Folder of the page's files; `public/` of the package by default. */
  root?: string
}

/**
 * The demo's Content-Security-Policy: its own script and style files only (nothing inline, no
 * eval, no other origin; media also from https origins for a room's mediaUrl), fetch and WebSocket to this origin only, no plugins, frames, forms
 * or <base>. A second guard behind the page's rule of rendering every user string as text.
 */
export const DEMO_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  // The watch party's <video>: the project's clip, or a room's mediaUrl on any https origin.
  "media-src 'self' https:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

/** A request URL's path and its query string (with the `?`). */
function splitUrl (url: string): [string, string] {
  const at = url.indexOf('?')
  return at === -1 ? [url, ''] : [url.slice(0, at), url.slice(at)]
}

/**
 * The demo page (`public/`) at the app's root (under the route prefix, if any): a public room,
 * a chat group and a watch party, talking to this server's REST API and namespaces. Served only
 * by the standalone app by default, so an embedding host keeps its `/`; DEMO_ENABLED overrides.
 * Encapsulated: the headers and the static routes stay in this plugin's context.
 */
export default fp<DemoPluginOptions>(async (app, opts) => {
  const enabled = app.realtimeConfig.demoEnabled ?? opts.standalone === true
  if (!enabled) return
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', DEMO_CSP)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'no-referrer')
    reply.header('cross-origin-opener-policy', 'same-origin')
    return payload
  })
  await app.register(fastifyStatic, {
    root: opts.root ?? join(packageRoot, 'public'),
    // One route per file found at start: no catch-all under the app's root.
    wildcard: false,
    index: false
  })
  // The page's references are relative: under a prefix it must be `/prefix/`, not `/prefix`.
  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    const [path, query] = splitUrl(request.url)
    if (!path.endsWith('/')) return await reply.redirect(`${path}/${query}`, 308)
    return await reply.sendFile('index.html')
  })
  // The operations page (public/admin.html): its data needs the admin key or an admin JWT.
  app.get('/admin', { schema: { hide: true } }, async (_request, reply) => await reply.sendFile('admin.html'))
}, { name: 'demo', dependencies: ['config'], encapsulate: true })
