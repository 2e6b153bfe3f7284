export * from './users.js'
export * from './public-rooms.js'
export * from './sync.js'
export * from './chat.js'
