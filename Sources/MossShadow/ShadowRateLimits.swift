/// Optional request rate limits (off by default), answered with AWS's 429 `Too Many Requests`.
public struct ShadowRateLimits: Sendable, Hashable {
    /// Requests per second per thing (AWS and Greengrass default to 20 when enabled); nil for no limit.
    public var perThingPerSecond: Double?
    /// Requests per second across all things (Greengrass defaults to 200 when enabled); nil for no limit.
    public var totalPerSecond: Double?

    public init(perThingPerSecond: Double? = nil, totalPerSecond: Double? = nil) {
        self.perThingPerSecond = perThingPerSecond
        self.totalPerSecond = totalPerSecond
    }

    public var isEnabled: Bool { perThingPerSecond != nil || totalPerSecond != nil }
}

/// Token buckets holding one second of requests (at least one). Not thread-safe: the service guards it.
struct ShadowRateLimiter {
    private struct Bucket {
        var tokens: Double
        var updatedAt: Double
    }

    let limits: ShadowRateLimits
    private var total: Bucket?
    private var things: [String: Bucket] = [:]

    init(limits: ShadowRateLimits) {
        self.limits = limits
    }

    /// Takes one token from the thing's bucket and the total bucket; false (taking nothing) when either is empty.
    mutating func admit(thing: String, now: Double) -> Bool {
        var newTotal: Bucket?
        if let rate = limits.totalPerSecond {
            var bucket = refill(total ?? Bucket(tokens: max(rate, 1), updatedAt: now), rate: rate, now: now)
            guard bucket.tokens >= 1 else { return false }
            bucket.tokens -= 1
            newTotal = bucket
        }
        if let rate = limits.perThingPerSecond {
            var bucket = refill(things[thing] ?? Bucket(tokens: max(rate, 1), updatedAt: now), rate: rate, now: now)
            guard bucket.tokens >= 1 else { return false }
            bucket.tokens -= 1
            things[thing] = bucket
            // Full buckets carry no information; dropping them keeps the table as small as the active things.
            if things.count > 4096 { things = things.filter { $0.value.tokens < max(rate, 1) - 1 } }
        }
        if let newTotal { total = newTotal }
        return true
    }

    private func refill(_ bucket: Bucket, rate: Double, now: Double) -> Bucket {
        Bucket(tokens: min(max(rate, 1), bucket.tokens + (now - bucket.updatedAt) * rate), updatedAt: now)
    }
}
