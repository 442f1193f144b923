// A throw-away redis-server on a free loopback port for the benchmarks (no persistence).
import { spawn } from "node:child_process"
import * as Net from "node:net"

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

const ping = (port) =>
  new Promise((resolve) => {
    const socket = Net.connect({ port, host: "127.0.0.1" })
    socket.setTimeout(500, () => (socket.destroy(), resolve(false)))
    socket.on("error", () => resolve(false))
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (chunk) => (socket.destroy(), resolve(chunk.toString().includes("PONG"))))
  })

export const startRedis = async () => {
  const port = await freePort()
  let child
  const start = async () => {
    child = spawn(process.env.REDIS_SERVER ?? "redis-server", [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no"
    ], { stdio: "ignore" })
    for (let i = 0; i < 250; i++) {
      if (await ping(port)) return
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    throw new Error("redis-server did not start")
  }
  const stop = () =>
    new Promise((resolve) => {
      if (child === undefined || child.exitCode !== null) return resolve()
      child.once("exit", () => resolve())
      child.kill("SIGKILL")
    })
  await start()
  const pause = () => child.kill("SIGSTOP")
  const resume = () => child.kill("SIGCONT")
  return { port, url: `redis://127.0.0.1:${port}`, start, stop, pause, resume }
}
