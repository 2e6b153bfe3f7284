/* global document */
// DOM helpers. Every string that comes from a user or the server reaches the page through
// textContent or a Text node (append of a string), never through innerHTML.
import { friendly } from './errors.js'

/** The element with this `data-testid` (the page's stable handles, also used by the tests). */
export function byId (testid, root = document) {
  const found = root.querySelector(`[data-testid="${testid}"]`)
  if (!found) throw new Error(`missing element ${testid}`)
  return found
}

/**
 * A new element. `props`: `text` (textContent), `class`, `testid`, `title`, data attributes
 * as `data` ({ key: value }); children are nodes or strings (strings become Text nodes).
 */
export function el (tag, props = {}, ...children) {
  const node = document.createElement(tag)
  if (props.text !== undefined) node.textContent = String(props.text)
  if (props.class) node.className = props.class
  if (props.testid) node.dataset.testid = props.testid
  if (props.title !== undefined) node.title = String(props.title)
  for (const [key, value] of Object.entries(props.data ?? {})) node.dataset[key] = String(value)
  node.append(...children)
  return node
}

/** Shows a message (text only) in a status or error line; an empty string clears it. */
export function say (node, message) {
  node.textContent = message ?? ''
  if (!message) delete node.dataset.code
}

/** A sentence for an error or a `{code, message}` payload; the code itself stays out of it. */
export function describe (err) {
  if (err && typeof err === 'object' && typeof err.code === 'string') return friendly(err.code, err.message)
  return err instanceof Error ? err.message : String(err)
}

/** Shows an error in its line, with the code (if any) in `data-code` and the server's words as the title. */
export function sayError (node, err) {
  node.textContent = describe(err)
  node.dataset.code = typeof err?.code === 'string' ? err.code : ''
  node.title = typeof err?.message === 'string' ? err.message : ''
}

/** Runs the form's handler on submit without navigating; the button that submitted is passed on. */
export function onSubmit (form, handler) {
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    handler(event.submitter ?? null)
  })
}

/** Local time of an ISO date, hours and minutes. */
export function clock (iso) {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
}
