// ServeLib: the `llm.serve` namespace, the engine's handle on the HTTP server of `llmscript serve`
// (LLMServe.HTTPServer; one per process). The engine (stdlib-lua/llm/serve/) calls `start`, then loops:
// `poll` takes queued requests, `answer` sends a whole JSON body, `begin`/`write`/`finish` stream
// server-sent events, `gone` says a client left (stop decoding it). `stopping` turns true on SIGTERM or
// SIGINT (after `handleSignals`); `shutdown` refuses new requests, `stop` ends the rest and closes the
// socket. Not available in a sandboxed state.
import CLua
import CLuaShim
import LLMServe
import Synchronization

enum ServeLib: LuaLibrary {
    static let namespace = "llm.serve"

    private static let server = Mutex<HTTPServer?>(nil)

    private static func current() throws -> HTTPServer {
        guard let s = server.withLock({ $0 }) else { throw LuaError.runtime("llm.serve: the server is not started (call llm.serve.start first)") }
        return s
    }

    private static func bytes(_ a: LuaArgs, _ i: Int32) throws -> [UInt8] {
        var len = 0
        guard a.type(i) == LUA_TSTRING, let p = lua_tolstring(a.L, i, &len) else { throw LuaError.type(i, expected: "string") }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) { Array(UnsafeBufferPointer(start: $0, count: len)) }
    }

    static let functions: [LuaBinding] = [
        LuaBinding(
            "start",
            "llm.serve.start([{host: string = '127.0.0.1', port: integer = 8080, apiKey: string, model: string = 'llmscript', maxQueue: integer = 64, "
                + "maxBody: integer = 1048576, timeout: number = 600, idleTimeout: integer = 60, connections: integer = 256}]) -> integer",
            "Starts the HTTP server (one per process) and returns the port it listens on (port 0: a free one)."
        ) { a in
            if llms_sandbox_of(a.L) != nil { throw LuaError.runtime("sandbox: llm.serve.start is not available (it opens a network port)") }
            let o = try a.options(1, allowed: ["host", "port", "apiKey", "model", "maxQueue", "maxBody", "timeout", "idleTimeout", "connections"])
            var c = HTTPServer.Config()
            c.host = try o.string("host") ?? c.host
            if c.host == "localhost" { c.host = "127.0.0.1" }
            c.port = try o.integer("port") ?? c.port
            c.apiKey = try o.string("apiKey")
            c.modelID = try o.string("model") ?? c.modelID
            c.maxQueue = try o.integer("maxQueue") ?? c.maxQueue
            c.maxBodyBytes = try o.integer("maxBody") ?? c.maxBodyBytes
            c.requestTimeout = try o.number("timeout") ?? c.requestTimeout
            c.idleTimeout = try o.integer("idleTimeout") ?? c.idleTimeout
            c.connectionLimit = try o.integer("connections") ?? c.connectionLimit
            guard (0...65535).contains(c.port) else { throw LuaError.runtime("llm.serve.start: Invalid 'port': expected 0..65535, got \(c.port)") }
            guard c.maxQueue >= 1, c.maxBodyBytes >= 1, c.requestTimeout > 0, c.idleTimeout >= 1, c.connectionLimit >= 1 else {
                throw LuaError.runtime("llm.serve.start: maxQueue, maxBody, timeout, idleTimeout and connections must be positive")
            }
            if server.withLock({ $0 != nil }) { throw LuaError.runtime("llm.serve.start: the server is already started") }
            let s: HTTPServer
            do { s = try HTTPServer(config: c) } catch { throw LuaError.runtime("llm.serve.start: \(error)") }
            server.withLock { $0 = s }
            a.push(s.port)
            return 1
        },
        LuaBinding(
            "poll", "llm.serve.poll(timeout: number, max: integer) -> table",
            "Waits up to timeout seconds for requests and takes at most max: a list of {id, path, body}."
        ) { a in
            let s = try current()
            let timeout = try a.number(1)
            guard timeout >= 0, timeout <= 3600 else { throw LuaError.argument(1, "expected a timeout of 0..3600 seconds, got \(timeout)") }
            let max = try a.integer(2)
            let taken = s.poll(timeout: timeout, max: max)
            lua_createtable(a.L, Int32(taken.count), 0)
            for (i, r) in taken.enumerated() {
                lua_createtable(a.L, 0, 3)
                a.push(r.id); lua_setfield(a.L, -2, "id")
                a.push(r.path); lua_setfield(a.L, -2, "path")
                r.body.withUnsafeBytes { p in
                    p.withMemoryRebound(to: CChar.self) { lua_pushlstring(a.L, $0.baseAddress, $0.count) }
                }
                lua_setfield(a.L, -2, "body")
                lua_rawseti(a.L, -2, lua_Integer(i + 1))
            }
            return 1
        },
        LuaBinding("answer", "llm.serve.answer(id: integer, status: integer, body: string)", "Answers a request with a whole JSON body.") { a in
            let id = try a.integer(1), status = try a.integer(2)
            guard (100...599).contains(status) else { throw LuaError.argument(2, "expected an HTTP status 100..599, got \(status)") }
            try current().answer(id: id, status: status, body: try bytes(a, 3))
            return 0
        },
        LuaBinding("begin", "llm.serve.begin(id: integer) -> boolean", "Starts a 200 server-sent-event stream; false if the client left.") { a in
            a.push(try current().beginStream(id: try a.integer(1)))
            return 1
        },
        LuaBinding("write", "llm.serve.write(id: integer, text: string) -> boolean", "Appends to a stream; false if the client left.") { a in
            a.push(try current().write(id: try a.integer(1), try bytes(a, 2)))
            return 1
        },
        LuaBinding("finish", "llm.serve.finish(id: integer)", "Ends a stream.") { a in
            try current().finish(id: try a.integer(1))
            return 0
        },
        LuaBinding("gone", "llm.serve.gone(id: integer) -> boolean", "True when the request's client left, it timed out or the server stops.") { a in
            a.push(try current().isGone(id: try a.integer(1)))
            return 1
        },
        LuaBinding("tokens", "llm.serve.tokens(prompt: integer, completion: integer)", "Adds a finished request's token counts to /metrics.") { a in
            let prompt = try a.integer(1), completion = try a.integer(2)
            guard prompt >= 0 else { throw LuaError.argument(1, "expected a token count >= 0, got \(prompt)") }
            guard completion >= 0 else { throw LuaError.argument(2, "expected a token count >= 0, got \(completion)") }
            try current().countTokens(prompt: prompt, completion: completion)
            return 0
        },
        LuaBinding("stopping", "llm.serve.stopping() -> boolean", "True once a shutdown began (SIGTERM/SIGINT after handleSignals, or shutdown()).") { a in
            a.push(try current().isStopping)
            return 1
        },
        LuaBinding("handleSignals", "llm.serve.handleSignals()", "Makes SIGTERM and SIGINT begin a graceful shutdown instead of ending the process.") { _ in
            HTTPServer.handleTerminationSignals()
            return 0
        },
        LuaBinding("shutdown", "llm.serve.shutdown()", "Refuses new and queued requests (503); running ones continue.") { _ in
            try current().shutdown()
            return 0
        },
        LuaBinding("stop", "llm.serve.stop()", "Ends running requests, closes the socket and forgets the server.") { _ in
            let s = server.withLock { s -> HTTPServer? in
                let old = s
                s = nil
                return old
            }
            s?.stop()
            return 0
        }
    ]
}
