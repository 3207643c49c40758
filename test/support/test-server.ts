import { Server, type ServerOptions } from '@cy/http'

/** A real server on a free loopback port; stop it in afterAll. */
export async function startTestServer(options: ServerOptions = {}, setup?: (server: Server) => void): Promise<Server> {
  const server = new Server({ port: 0, hostname: '127.0.0.1', ...options })
  setup?.(server)
  await server.start()
  return server
}
