// HTTPServer: the transport half of `llmscript serve`, on libmicrohttpd (one thread per connection).
// It answers GET /health, /metrics and /v1/models itself; POST /v1/completions and /v1/chat/completions
// are checked (API key, body size, well-formed JSON, queue room, not shutting down), queued as an
// Exchange, and the connection thread waits for the engine's answer: a whole body, or a stream of
// server-sent events read through a content-reader callback. The engine (one thread, the Lua state)
// takes requests with `poll` and answers with `answer` / `beginStream` + `write` + `finish`. A client
// that disconnects, a request past its timeout and a shutdown mark the exchange `gone`, which the engine
// sees through `isGone` and stops decoding it. Errors use the OpenAI shape (ErrorBody.swift).
import CMicroHTTPD
import LLMFormats

#if canImport(Glibc)
    import Glibc
#endif

/// An error starting the server (bad address, port in use).
public struct ServeError: Error, CustomStringConvertible {
    public let description: String
}

/// The HTTP server of `llmscript serve`; one per process (``current``).
public final class HTTPServer: @unchecked Sendable {
    /// Settings fixed at start.
    public struct Config: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// Bearer token required on /v1/ paths; nil: no authentication.
        public var apiKey: String?
        /// The model id listed by /v1/models and accepted in requests.
        public var modelID = "llmscript"
        /// Requests waiting for a decoding slot before new ones get 429.
        public var maxQueue = 64
        public var maxBodyBytes = 1 << 20
        /// Seconds from arrival until a request is cancelled (504 if nothing was sent yet).
        public var requestTimeout = 600.0
        /// Seconds a connection may stay idle before the server closes it.
        public var idleTimeout = 60
        public var connectionLimit = 256
        public init() {}
    }

    /// Why an exchange was abandoned.
    enum GoneReason { case client, timeout, shutdown }

    public let config: Config
    /// The port actually bound (the chosen one when started with port 0).
    public private(set) var port = 0
    let monitor = Monitor()
    private var daemon: OpaquePointer?
    private var queue: [Exchange] = []
    private var active: [Int: Exchange] = [:]
    private var reasons: [ObjectIdentifier: GoneReason] = [:]
    private var nextID = 1
    private var metrics = Metrics()
    private var stopping = false

    /// Starts listening on `config.host`, a numeric IPv4 or IPv6 address (`::` also takes IPv4 connections);
    /// throws when the host is not such an address or the port cannot be bound.
    public init(config: Config) throws {
        self.config = config
        let family = llms_mhd_family(config.host)
        guard family != 0 else {
            throw ServeError(description: "'\(config.host)' is not a numeric IPv4 or IPv6 address (e.g. 127.0.0.1, 0.0.0.0, ::1, ::)")
        }
        signal(SIGPIPE, SIG_IGN)
        let cls = Unmanaged.passUnretained(self).toOpaque()
        guard
            let d = llms_mhd_start(
                config.host, UInt16(clamping: config.port), accessHandler, cls, completedHandler, UInt32(clamping: config.idleTimeout),
                UInt32(clamping: config.connectionLimit))
        else {
            let shown = family == 6 ? "[\(config.host)]" : config.host
            throw ServeError(description: "cannot listen on \(shown):\(config.port) (is the port in use, or the address not on this machine?)")
        }
        daemon = d
        port = Int(llms_mhd_port(d))
    }

    deinit { stop() }

    // MARK: the engine's side

    /// Waits up to `timeout` seconds for queued requests and takes at most `max` of them (oldest first).
    public func poll(timeout: Double, max: Int) -> [(id: Int, path: String, body: [UInt8])] {
        monitor.locked {
            if queue.isEmpty && !isStopping { monitor.wait(seconds: timeout) }
            let n = Swift.min(Swift.max(0, max), queue.count)
            let taken = queue.prefix(n)
            queue.removeFirst(n)
            return taken.map { ex in
                ex.taken = true
                active[ex.id] = ex
                return (ex.id, ex.path, ex.body)
            }
        }
    }

    /// Answers request `id` with a whole JSON body (an error or a non-streamed result). A status outside
    /// 100...599 is sent as 500 (the HTTP layer takes a UInt32, and 0 means "not answered yet").
    public func answer(id: Int, status: Int, body: [UInt8]) {
        monitor.locked {
            guard let ex = active.removeValue(forKey: id) else { return }
            ex.status = (100...599).contains(status) ? status : 500; ex.pending = body; ex.done = true
        }
        monitor.broadcast()
    }

    /// Starts a 200 event stream for request `id`; false if the client is gone.
    public func beginStream(id: Int) -> Bool {
        let ok = monitor.locked { () -> Bool in
            guard let ex = active[id], !ex.gone else { return false }
            ex.status = 200; ex.streaming = true; ex.contentType = "text/event-stream"
            return true
        }
        monitor.broadcast()
        return ok
    }

    /// Appends bytes to request `id`'s stream; false if the client is gone (stop decoding it).
    public func write(id: Int, _ bytes: [UInt8]) -> Bool {
        let ok = monitor.locked { () -> Bool in
            guard let ex = active[id], !ex.gone else { return false }
            if ex.firstWrite == nil {
                let now = Monitor.now()
                ex.firstWrite = now
                metrics.firstToken.observe(now - ex.arrived)
            }
            ex.pending += bytes
            return true
        }
        monitor.broadcast()
        return ok
    }

    /// Ends request `id`'s stream after the bytes written so far. A request that was never begun nor answered
    /// gets a 500 (left at status 0 its connection would wait for an answer forever, and `stop` with it).
    public func finish(id: Int) {
        monitor.locked {
            guard let ex = active.removeValue(forKey: id) else { return }
            if ex.status == 0 {
                ex.status = 500
                ex.pending = Array(ErrorBody.json("The server ended the request without an answer", type: "server_error", code: "no_answer").utf8)
            }
            ex.done = true
        }
        monitor.broadcast()
    }

    /// True when request `id` no longer wants an answer (or is unknown).
    public func isGone(id: Int) -> Bool {
        monitor.locked { active[id].map { $0.gone } ?? true }
    }

    /// Adds one finished request's token counts to the metrics (negative counts add nothing; the totals saturate at Int.max).
    public func countTokens(prompt: Int, completion: Int) {
        // saturating: the totals are counters of a long-running server, never a reason to trap
        func add(_ total: Int, _ n: Int) -> Int {
            let (sum, overflow) = total.addingReportingOverflow(Swift.max(0, n))
            return overflow ? Int.max : sum
        }
        monitor.locked {
            metrics.promptTokens = add(metrics.promptTokens, prompt)
            metrics.completionTokens = add(metrics.completionTokens, completion)
        }
    }

    /// True once a shutdown began (SIGTERM, SIGINT or ``shutdown()``).
    public var isStopping: Bool { stopping || shutdownSignal.isSet }

    /// Stops taking requests: queued ones and new ones are answered 503; running ones continue.
    public func shutdown() {
        monitor.locked {
            stopping = true
            for ex in queue { markGone(ex, .shutdown) }
            queue.removeAll()
        }
        monitor.broadcast()
    }

    /// Abandons every request still running (their streams end), then closes the listening socket and
    /// waits for the connection threads.
    public func stop() {
        shutdown()
        monitor.locked {
            for ex in active.values { markGone(ex, .shutdown) }
            active.removeAll()
        }
        monitor.broadcast()
        if let d = daemon {
            daemon = nil
            MHD_stop_daemon(d)
        }
    }

    /// Makes SIGTERM and SIGINT begin a graceful shutdown (``isStopping`` becomes true).
    public static func handleTerminationSignals() {
        signal(SIGTERM) { _ in shutdownSignal.set() }
        signal(SIGINT) { _ in shutdownSignal.set() }
    }

    // MARK: the connection threads' side

    /// Lock held. Marks `ex` abandoned, drops it from the queue and the active set.
    private func markGone(_ ex: Exchange, _ reason: GoneReason) {
        guard !ex.gone, !ex.done else { return }
        ex.gone = true
        reasons[ObjectIdentifier(ex)] = reason
        if let i = queue.firstIndex(where: { $0 === ex }) { queue.remove(at: i) }
        active.removeValue(forKey: ex.id)
    }

    func abandon(_ ex: Exchange, _ reason: GoneReason) {
        monitor.locked { markGone(ex, reason) }
        monitor.broadcast()
    }

    /// Why `ex` was abandoned (and forgets it).
    func reason(_ ex: Exchange) -> GoneReason? {
        monitor.locked { reasons.removeValue(forKey: ObjectIdentifier(ex)) }
    }

    /// The first answer to a complete request (its body read).
    func route(_ conn: OpaquePointer, url: String, method: String, _ c: Connection) -> MHD_Result {
        let path = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        c.endpoint = ["/v1/completions", "/v1/chat/completions", "/v1/models", "/health", "/metrics"].contains(path) ? path : "other"
        switch path {
        case "/health":
            return isStopping ? send(conn, c, 503, #"{"status":"shutting_down"}"#) : send(conn, c, 200, #"{"status":"ok"}"#)
        case "/metrics":
            let text = monitor.locked { metrics.render(queueDepth: queue.count, active: active.count) }
            return send(conn, c, 200, text, type: "text/plain; version=0.0.4")
        case "/v1/models", "/v1/completions", "/v1/chat/completions":
            if let denied = authError(conn) { return send(conn, c, 401, denied) }
            if path == "/v1/models" {
                guard method == "GET" else { return send(conn, c, 405, ErrorBody.json("Use GET for \(path)", code: "method_not_allowed")) }
                let id = ErrorBody.quote(config.modelID)
                return send(conn, c, 200, #"{"object":"list","data":[{"id":\#(id),"object":"model","created":0,"owned_by":"llmscript"}]}"#)
            }
            guard method == "POST" else { return send(conn, c, 405, ErrorBody.json("Use POST for \(path)", code: "method_not_allowed")) }
            return submit(conn, path, c)
        default:
            return send(conn, c, 404, ErrorBody.json("Unknown path \(path)", code: "not_found"))
        }
    }

    private func authError(_ conn: OpaquePointer) -> String? {
        guard let key = config.apiKey else { return nil }
        guard let raw = MHD_lookup_connection_value(conn, LLMS_MHD_HEADER_KIND, "Authorization") else {
            return ErrorBody.json("Missing API key: send it as 'Authorization: Bearer KEY'", type: "invalid_request_error", code: "invalid_api_key")
        }
        let given = Array(String(cString: raw).utf8)
        let want = Array(("Bearer " + key).utf8)
        var diff = given.count ^ want.count
        for i in 0..<want.count { diff |= Int(want[i] ^ (i < given.count ? given[i] : 0)) }
        return diff == 0 ? nil : ErrorBody.json("Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key")
    }

    private func submit(_ conn: OpaquePointer, _ path: String, _ c: Connection) -> MHD_Result {
        if c.tooLarge {
            return send(conn, c, 413, ErrorBody.json("The request body exceeds \(config.maxBodyBytes) bytes", code: "request_too_large"))
        }
        if isStopping { return send(conn, c, 503, ErrorBody.json("The server is shutting down", type: "server_error", code: "shutting_down")) }
        do { _ = try JSONParser.parse(c.body, maxDepth: 64) } catch {
            return send(conn, c, 400, ErrorBody.json("The body of the request is not valid JSON (\(error))", code: "invalid_json"))
        }
        let ex: Exchange? = monitor.locked {
            guard queue.count < config.maxQueue else { return nil }
            let ex = Exchange(id: nextID, path: path, body: c.body, arrived: c.started)
            nextID += 1
            queue.append(ex)
            return ex
        }
        guard let ex else {
            return send(conn, c, 429, ErrorBody.json("The server's request queue is full (\(config.maxQueue)); retry later", type: "rate_limit_error", code: "queue_full"))
        }
        c.body = []
        c.exchange = ex
        monitor.broadcast()
        // wait for the engine's answer (or the client leaving, the timeout, a shutdown)
        while true {
            let answered: Bool = monitor.locked {
                if ex.status == 0 && !ex.gone { monitor.wait(seconds: 0.1) }
                return ex.status != 0 || ex.gone
            }
            if answered { break }
            if llms_mhd_client_gone(conn) != 0 { abandon(ex, .client) } else if Monitor.now() - ex.arrived > config.requestTimeout { abandon(ex, .timeout) }
        }
        let (status, streaming, body) = monitor.locked { () -> (Int, Bool, [UInt8]) in
            let b = ex.streaming ? [] : ex.pending
            if !ex.streaming { ex.pending = [] }
            return (ex.status, ex.streaming, b)
        }
        if status == 0 {
            switch reason(ex) {
            case .timeout?: return send(conn, c, 504, ErrorBody.json("The request timed out after \(config.requestTimeout) s", type: "timeout", code: "timeout"))
            case .shutdown?: return send(conn, c, 503, ErrorBody.json("The server is shutting down", type: "server_error", code: "shutting_down"))
            default: return LLMS_MHD_NO  // the client left: close the connection
            }
        }
        if !streaming { return send(conn, c, status, body) }
        c.status = 200
        let stream = Unmanaged.passRetained(Stream(server: self, exchange: ex, connection: conn)).toOpaque()
        guard let response = MHD_create_response_from_callback(UInt64.max, 4096, streamReader, stream, streamFree) else { return LLMS_MHD_NO }
        MHD_add_response_header(response, "Content-Type", "text/event-stream")
        MHD_add_response_header(response, "Cache-Control", "no-cache")
        let r = MHD_queue_response(conn, 200, response)
        MHD_destroy_response(response)
        return r
    }

    /// Hands the next bytes of a stream to the connection (blocking until there are some).
    func read(_ s: Stream, into buf: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        let ex = s.exchange
        while true {
            let r: Int? = monitor.locked {
                if !ex.pending.isEmpty {
                    let n = Swift.min(max, ex.pending.count)
                    ex.pending.withUnsafeBytes { UnsafeMutableRawPointer(buf).copyMemory(from: $0.baseAddress!, byteCount: n) }
                    ex.pending.removeFirst(n)
                    return n
                }
                if ex.done { return -1 }  // MHD_CONTENT_READER_END_OF_STREAM
                if ex.gone { return -2 }  // MHD_CONTENT_READER_END_WITH_ERROR
                monitor.wait(seconds: 0.1)
                return nil
            }
            if let r { return r }
            if llms_mhd_client_gone(s.connection) != 0 { abandon(ex, .client) } else if Monitor.now() - ex.arrived > config.requestTimeout { abandon(ex, .timeout) }
        }
    }

    /// A request's connection finished (answered, failed or closed): metrics, and the engine stops it.
    func completed(_ c: Connection) {
        if let ex = c.exchange { abandon(ex, .client); _ = reason(ex) }
        guard c.status != 0 else { return }
        monitor.locked { metrics.request(endpoint: c.endpoint, status: c.status, seconds: Monitor.now() - c.started) }
    }

    private func send(_ conn: OpaquePointer, _ c: Connection, _ status: Int, _ text: String, type: String = "application/json") -> MHD_Result {
        send(conn, c, status, Array(text.utf8), type: type)
    }

    private func send(_ conn: OpaquePointer, _ c: Connection, _ status: Int, _ body: [UInt8], type: String = "application/json") -> MHD_Result {
        c.status = status
        let response = body.withUnsafeBytes { MHD_create_response_from_buffer(body.count, UnsafeMutableRawPointer(mutating: $0.baseAddress), LLMS_MHD_RESPMEM_MUST_COPY) }
        guard let response else { return LLMS_MHD_NO }
        MHD_add_response_header(response, "Content-Type", type)
        let r = MHD_queue_response(conn, UInt32(status), response)
        MHD_destroy_response(response)
        return r
    }
}

/// Set by SIGTERM/SIGINT (only an atomic store is safe in a signal handler).
nonisolated(unsafe) let shutdownSignal = AtomicFlag()

/// Per-request state of one connection (the body as it arrives, then the answer's status).
final class Connection {
    var body: [UInt8] = []
    var tooLarge = false
    var exchange: Exchange?
    var status = 0
    var endpoint = "other"
    let started = Monitor.now()
}

/// What the stream reader callback needs.
final class Stream {
    let server: HTTPServer
    let exchange: Exchange
    let connection: OpaquePointer
    init(server: HTTPServer, exchange: Exchange, connection: OpaquePointer) { self.server = server; self.exchange = exchange; self.connection = connection }
}

private let accessHandler: MHD_AccessHandlerCallback = { cls, conn, url, method, _, upload, size, ctx in
    guard let cls, let conn, let url, let method, let size, let ctx else { return LLMS_MHD_NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    guard let p = ctx.pointee else {
        ctx.pointee = Unmanaged.passRetained(Connection()).toOpaque()
        return LLMS_MHD_YES
    }
    let c = Unmanaged<Connection>.fromOpaque(p).takeUnretainedValue()
    if size.pointee > 0 {
        if !c.tooLarge, let upload {
            if c.body.count + size.pointee > server.config.maxBodyBytes {
                c.tooLarge = true; c.body = []
            } else {
                c.body.append(contentsOf: UnsafeRawBufferPointer(start: upload, count: size.pointee))
            }
        }
        size.pointee = 0
        return LLMS_MHD_YES
    }
    return server.route(conn, url: String(cString: url), method: String(cString: method), c)
}

private let completedHandler: MHD_RequestCompletedCallback = { cls, _, ctx, _ in
    guard let cls, let ctx, let p = ctx.pointee else { return }
    ctx.pointee = nil
    let c = Unmanaged<Connection>.fromOpaque(p).takeRetainedValue()
    Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().completed(c)
}

private let streamReader: MHD_ContentReaderCallback = { cls, _, buf, max in
    guard let cls, let buf else { return -2 }
    let s = Unmanaged<Stream>.fromOpaque(cls).takeUnretainedValue()
    return s.server.read(s, into: buf, max: max)
}

private let streamFree: MHD_ContentReaderFreeCallback = { cls in
    guard let cls else { return }
    Unmanaged<Stream>.fromOpaque(cls).release()
}
