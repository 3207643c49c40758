import { PermissionDeniedError } from '@cy/core'
import { expect, test } from 'bun:test'
import { checkHost } from '../../packages/http/src/guards/host-check.ts'

// checkHost remembers the last Host it accepted; that must hold only for the names it was accepted for.
test('a Host accepted for one server is still refused by a server that does not answer to it', () => {
  expect(() => checkHost('evil.example', '*')).not.toThrow()
  expect(() => checkHost('evil.example', new Set(['localhost', '127.0.0.1']))).toThrow(PermissionDeniedError)
  const loopback = new Set(['localhost'])
  expect(() => checkHost('localhost:8080', loopback)).not.toThrow()
  expect(() => checkHost('localhost:8080', loopback)).not.toThrow()
  expect(() => checkHost('bad/host', loopback)).toThrow('not a valid host name')
})
