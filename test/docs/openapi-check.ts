/**
 * The rules of OpenAPI 3.0.3 a generated document can break, checked by hand (no OpenAPI
 * validator is among the dependencies): the required fields, responses, parameters (every
 * `{param}` of a path declared, and required), security requirements naming declared schemes,
 * local `$ref`s that resolve, and Schema Objects using only 3.0's keywords and types (3.0 has
 * no `const`, `patternProperties` or `type: 'null'`, which JSON Schema and TypeBox have).
 */

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
const TYPES = new Set(['array', 'boolean', 'integer', 'number', 'object', 'string'])
const SCHEMA_KEYWORDS = new Set([
  'title', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength',
  'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required', 'enum', 'type',
  'not', 'allOf', 'oneOf', 'anyOf', 'items', 'properties', 'additionalProperties', 'description', 'format',
  'default', 'nullable', 'discriminator', 'readOnly', 'writeOnly', 'example', 'externalDocs', 'deprecated', 'xml', '$ref'
])
const PARAMETER_IN = new Set(['path', 'query', 'header', 'cookie'])

type Json = Record<string, any>

function resolve (root: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined
  return ref.slice(2).split('/').reduce<any>((node, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], root)
}

function checkSchema (root: Json, schema: unknown, where: string, errors: string[]): void {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    errors.push(`${where}: a schema must be an object`)
    return
  }
  const s = schema as Json
  if (s.$ref !== undefined) {
    if (resolve(root, s.$ref) === undefined) errors.push(`${where}: $ref ${s.$ref} does not resolve`)
    return
  }
  for (const key of Object.keys(s)) {
    if (!SCHEMA_KEYWORDS.has(key) && !key.startsWith('x-')) errors.push(`${where}: '${key}' is not an OpenAPI 3.0 schema keyword`)
  }
  if (s.type !== undefined && !TYPES.has(s.type)) errors.push(`${where}: type '${String(s.type)}' is not an OpenAPI 3.0 type`)
  for (const key of ['exclusiveMinimum', 'exclusiveMaximum', 'nullable', 'uniqueItems', 'readOnly', 'writeOnly']) {
    if (s[key] !== undefined && typeof s[key] !== 'boolean') errors.push(`${where}: ${key} must be a boolean in 3.0`)
  }
  if (s.required !== undefined && (!Array.isArray(s.required) || s.required.length === 0 || s.required.some((r: unknown) => typeof r !== 'string'))) {
    errors.push(`${where}: required must be a non-empty list of names`)
  }
  if (s.enum !== undefined && (!Array.isArray(s.enum) || s.enum.length === 0)) errors.push(`${where}: enum must be a non-empty list`)
  for (const key of ['allOf', 'oneOf', 'anyOf']) {
    if (s[key] === undefined) continue
    if (!Array.isArray(s[key])) errors.push(`${where}: ${key} must be a list`)
    else s[key].forEach((sub: unknown, i: number) => { checkSchema(root, sub, `${where}/${key}/${i}`, errors) })
  }
  if (s.not !== undefined) checkSchema(root, s.not, `${where}/not`, errors)
  if (s.items !== undefined) checkSchema(root, s.items, `${where}/items`, errors)
  if (s.type === 'array' && s.items === undefined) errors.push(`${where}: an array schema needs items in 3.0`)
  if (s.properties !== undefined) {
    for (const [name, sub] of Object.entries(s.properties as Json)) checkSchema(root, sub, `${where}/properties/${name}`, errors)
  }
  if (typeof s.additionalProperties === 'object') checkSchema(root, s.additionalProperties, `${where}/additionalProperties`, errors)
}

function checkContent (root: Json, content: unknown, where: string, errors: string[]): void {
  if (content === undefined) return
  for (const [type, media] of Object.entries(content as Json)) {
    if (media.schema !== undefined) checkSchema(root, media.schema, `${where}/content/${type}/schema`, errors)
  }
}

function checkOperation (root: Json, path: string, method: string, op: Json, inherited: Json[], errors: string[]): void {
  const where = `${method.toUpperCase()} ${path}`
  const schemes = Object.keys(root.components?.securitySchemes ?? {})
  const responses = op.responses as Json | undefined
  if (!responses || Object.keys(responses).length === 0) errors.push(`${where}: responses must have at least one entry`)
  for (const [status, response] of Object.entries(responses ?? {})) {
    if (!/^([1-5](\d\d|XX)|default)$/.test(status)) errors.push(`${where}: response key ${status} is not a status`)
    if (typeof response.description !== 'string') errors.push(`${where} ${status}: a response needs a description`)
    checkContent(root, response.content, `${where} ${status}`, errors)
  }
  if (op.requestBody !== undefined) {
    if (typeof op.requestBody.content !== 'object') errors.push(`${where}: requestBody needs content`)
    checkContent(root, op.requestBody.content, `${where} requestBody`, errors)
  }
  const parameters = [...inherited, ...(op.parameters ?? [])] as Json[]
  const seen = new Set<string>()
  for (const p of parameters) {
    if (typeof p.name !== 'string' || !PARAMETER_IN.has(p.in)) errors.push(`${where}: a parameter needs a name and a valid 'in'`)
    if (p.in === 'path' && p.required !== true) errors.push(`${where}: path parameter ${p.name} must be required`)
    if (seen.has(`${p.in}:${p.name}`)) errors.push(`${where}: parameter ${p.name} twice`)
    seen.add(`${p.in}:${p.name}`)
    if (p.schema !== undefined) checkSchema(root, p.schema, `${where} parameter ${p.name}`, errors)
  }
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    if (!seen.has(`path:${name}`)) errors.push(`${where}: path parameter {${name}} is not declared`)
  }
  for (const requirement of op.security ?? root.security ?? []) {
    for (const name of Object.keys(requirement)) {
      if (!schemes.includes(name)) errors.push(`${where}: security scheme ${name} is not declared`)
    }
  }
  if (op.tags !== undefined && (!Array.isArray(op.tags) || op.tags.some((tag: unknown) => typeof tag !== 'string'))) errors.push(`${where}: tags must be names`)
}

/** Every violation found, as `where: what` (empty when the document is valid). */
export function validateOpenApi30 (root: Json): string[] {
  const errors: string[] = []
  if (typeof root.openapi !== 'string' || !/^3\.0\.\d(-.+)?$/.test(root.openapi)) errors.push('openapi must be 3.0.x')
  if (typeof root.info?.title !== 'string' || typeof root.info?.version !== 'string') errors.push('info needs title and version')
  if (typeof root.paths !== 'object' || root.paths === null) {
    errors.push('paths is required')
    return errors
  }
  for (const [name, scheme] of Object.entries((root.components?.securitySchemes ?? {}) as Json)) {
    if (!['apiKey', 'http', 'oauth2', 'openIdConnect'].includes(scheme.type)) errors.push(`security scheme ${name}: bad type`)
    if (scheme.type === 'apiKey' && (typeof scheme.name !== 'string' || !['header', 'query', 'cookie'].includes(scheme.in))) errors.push(`security scheme ${name}: apiKey needs name and in`)
    if (scheme.type === 'http' && typeof scheme.scheme !== 'string') errors.push(`security scheme ${name}: http needs a scheme`)
  }
  for (const [name, schema] of Object.entries((root.components?.schemas ?? {}) as Json)) checkSchema(root, schema, `components/schemas/${name}`, errors)
  const operationIds = new Set<string>()
  for (const [path, item] of Object.entries(root.paths as Json)) {
    if (!path.startsWith('/')) errors.push(`${path}: a path starts with /`)
    for (const [method, op] of Object.entries(item as Json)) {
      if (method === 'parameters' || method === 'summary' || method === 'description' || method.startsWith('x-')) continue
      if (!METHODS.includes(method)) {
        errors.push(`${path}: '${method}' is not an HTTP method`)
        continue
      }
      if (op.operationId !== undefined) {
        if (operationIds.has(op.operationId)) errors.push(`${path}: operationId ${op.operationId} twice`)
        operationIds.add(op.operationId)
      }
      checkOperation(root, path, method, op as Json, (item as Json).parameters ?? [], errors)
    }
  }
  return errors
}
