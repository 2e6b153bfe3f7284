import Type, { type Static } from 'typebox'
import { bearerAuth, ErrorResponse, route, Text } from './common.js'

export const RegisterBody = Type.Object({
  username: Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$' }),
  password: Text({ minLength: 8, maxLength: 256 }),
  displayName: Type.Optional(Text({ minLength: 1, maxLength: 64 }))
}, { additionalProperties: false, examples: [{ username: 'alice', password: 'correct horse battery', displayName: 'Alice' }] })

export const LoginBody = Type.Object({
  username: Text({ minLength: 1, maxLength: 32 }),
  password: Text({ minLength: 1, maxLength: 256 })
}, { additionalProperties: false, examples: [{ username: 'alice', password: 'correct horse battery' }] })

export const PublicUser = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String()
}, { examples: [{ id: '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b', username: 'alice', displayName: 'Alice' }] })

export const AuthReply = Type.Object({ token: Type.String(), user: PublicUser }, {
  examples: [{
    token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIzZjJiOGMxZSIsInVzZXJuYW1lIjoiYWxpY2UifQ.2mX8pQ0k7Zr3nT1vW9yB4cL6dF5hJ0sA8uE2iO7gK1M',
    user: { id: '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b', username: 'alice', displayName: 'Alice' }
  }]
})

export const authRouteSchemas = {
  register: route('auth', 'Register a user; answers a JWT', { body: RegisterBody, response: { 201: AuthReply, 400: ErrorResponse, 409: ErrorResponse } }),
  login: route('auth', 'Log in; answers a JWT', { body: LoginBody, response: { 200: AuthReply, 400: ErrorResponse, 401: ErrorResponse } }),
  me: route('auth', 'The user the token belongs to', { response: { 200: Type.Object({ user: PublicUser }), 401: ErrorResponse } }, bearerAuth)
}

export type RegisterInput = Static<typeof RegisterBody>
export type LoginInput = Static<typeof LoginBody>
