// Exchange: one API request between its HTTP connection thread and the engine. The connection thread
// creates it (path and body), the engine answers it (a whole response, or a 200 stream head and then
// chunks), and either side may end it: the engine by `done`, the connection by `gone` (the client left,
// the request timed out, or the server is shutting down). All fields are guarded by the server's Monitor.

final class Exchange: @unchecked Sendable {
    let id: Int
    let path: String
    let body: [UInt8]
    let arrived: Double
    /// The HTTP status of the answer; 0 while the engine has not answered.
    var status = 0
    var contentType = "application/json"
    /// True once the engine began a stream (status 200, server-sent events).
    var streaming = false
    /// Bytes written by the engine and not yet handed to the connection.
    var pending: [UInt8] = []
    /// The engine wrote everything.
    var done = false
    /// The connection no longer wants the answer (client gone, timed out, shutdown): the engine stops.
    var gone = false
    /// Taken by the engine (no longer in the queue).
    var taken = false
    /// When the engine wrote the first bytes of a stream (time to first token).
    var firstWrite: Double?

    init(id: Int, path: String, body: [UInt8], arrived: Double) {
        self.id = id; self.path = path; self.body = body; self.arrived = arrived
    }
}
