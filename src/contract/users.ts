import Type, { type Static } from 'typebox'
import { bearerAuth, ErrorResponse, PageLimit, route } from './common.js'
import { PublicUser } from './auth.js'

/** The user directory: registered users found by the start of their username ("add member by username"). */

export const UserSearchQuery = Type.Object({
  /** Start of a username, any case; the username alphabet only. Empty or absent: everyone. */
  q: Type.Optional(Type.String({ maxLength: 32, pattern: '^[A-Za-z0-9_.-]*$' })),
  limit: Type.Optional(PageLimit),
  /** The previous page's `nextCursor`: usernames after this one (lower case). */
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9_.-]+$' }))
}, { additionalProperties: false })

export const UserSearchReply = Type.Object({
  users: Type.Array(PublicUser),
  /** Null on the last page. */
  nextCursor: Type.Union([Type.String(), Type.Null()])
}, { examples: [{ users: [{ id: '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b', username: 'alice', displayName: 'Alice' }], nextCursor: 'alice' }] })

export const userRouteSchemas = {
  search: route('users', 'Registered users whose username starts with `q`, by username', {
    querystring: UserSearchQuery,
    response: { 200: UserSearchReply, 400: ErrorResponse, 401: ErrorResponse }
  }, bearerAuth)
}

export type UserSearchInput = Static<typeof UserSearchQuery>
export type UserSearchResult = Static<typeof UserSearchReply>
