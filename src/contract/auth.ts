import Type, { type Static } from 'typebox'
import { bearerAuth, ErrorResponse, route, Text } from './common.js'

export const RegisterBody = Type.Object({
  username: Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$' }),
  password: Text({ minLength: 8, maxLength: 256 }),
  displayName: Type.Optional(Text({ minLength: 1, maxLength: 64 }))
}, { additionalProperties: false })

export const LoginBody = Type.Object({
  username: Text({ minLength: 1, maxLength: 32 }),
  password: Text({ minLength: 1, maxLength: 256 })
}, { additionalProperties: false })

export const PublicUser = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String()
})

export const AuthReply = Type.Object({ token: Type.String(), user: PublicUser })

export const authRouteSchemas = {
  register: route('auth', 'Register a user; answers a JWT', { body: RegisterBody, response: { 201: AuthReply, 400: ErrorResponse, 409: ErrorResponse } }),
  login: route('auth', 'Log in; answers a JWT', { body: LoginBody, response: { 200: AuthReply, 400: ErrorResponse, 401: ErrorResponse } }),
  me: route('auth', 'The user the token belongs to', { response: { 200: Type.Object({ user: PublicUser }), 401: ErrorResponse } }, bearerAuth)
}

export type RegisterInput = Static<typeof RegisterBody>
export type LoginInput = Static<typeof LoginBody>
