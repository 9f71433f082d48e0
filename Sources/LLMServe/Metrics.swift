// Metrics: the counters behind GET /metrics, rendered in the Prometheus text format (version 0.0.4):
// requests by endpoint and status, prompt and completion tokens, queue depth and active requests (gauges
// read at render time), and histograms of request latency and time to first streamed bytes.
// Not thread-safe by itself: the server calls it under its Monitor.

struct Histogram {
    static let bounds: [Double] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
    var counts = [Int](repeating: 0, count: Histogram.bounds.count)
    var sum = 0.0
    var count = 0

    mutating func observe(_ v: Double) {
        for (i, b) in Histogram.bounds.enumerated() where v <= b { counts[i] += 1 }
        sum += v; count += 1
    }

    func render(_ name: String, help: String) -> String {
        var s = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (i, b) in Histogram.bounds.enumerated() { s += "\(name)_bucket{le=\"\(b)\"} \(counts[i])\n" }
        s += "\(name)_bucket{le=\"+Inf\"} \(count)\n\(name)_sum \(sum)\n\(name)_count \(count)\n"
        return s
    }
}

struct Metrics {
    var requests: [String: Int] = [:]  // "endpoint\u{0}status" -> count
    var promptTokens = 0
    var completionTokens = 0
    var latency = Histogram()
    var firstToken = Histogram()

    mutating func request(endpoint: String, status: Int, seconds: Double) {
        requests["\(endpoint)\u{0}\(status)", default: 0] += 1
        latency.observe(seconds)
    }

    func render(queueDepth: Int, active: Int) -> String {
        var s = "# HELP llmscript_requests_total HTTP requests answered, by endpoint and status.\n# TYPE llmscript_requests_total counter\n"
        for key in requests.keys.sorted() {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
            s += "llmscript_requests_total{endpoint=\"\(parts[0])\",status=\"\(parts[1])\"} \(requests[key]!)\n"
        }
        s += "# HELP llmscript_prompt_tokens_total Prompt tokens of answered completions.\n# TYPE llmscript_prompt_tokens_total counter\n"
        s += "llmscript_prompt_tokens_total \(promptTokens)\n"
        s += "# HELP llmscript_completion_tokens_total Generated tokens.\n# TYPE llmscript_completion_tokens_total counter\n"
        s += "llmscript_completion_tokens_total \(completionTokens)\n"
        s += "# HELP llmscript_queue_depth Requests waiting for a decoding slot.\n# TYPE llmscript_queue_depth gauge\nllmscript_queue_depth \(queueDepth)\n"
        s += "# HELP llmscript_active_requests Requests being decoded.\n# TYPE llmscript_active_requests gauge\nllmscript_active_requests \(active)\n"
        s += latency.render("llmscript_request_duration_seconds", help: "Time from a request's arrival to its last byte.")
        s += firstToken.render("llmscript_time_to_first_token_seconds", help: "Time from a streamed request's arrival to its first event.")
        return s
    }
}
