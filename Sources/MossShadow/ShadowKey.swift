/// Which shadow: a thing's classic shadow (`name == nil`) or one of its named shadows.
public struct ShadowKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var thing: String
    public var name: String?

    public init(thing: String, name: String? = nil) {
        self.thing = thing
        self.name = name
    }

    /// The name AWS's 404 text quotes: the thing for a classic shadow, the shadow's own name otherwise.
    public var notFoundName: String { name ?? thing }

    /// `$aws/things/{thing}/shadow` or `$aws/things/{thing}/shadow/name/{name}`.
    public var topicPrefix: String {
        if let name { "$aws/things/\(thing)/shadow/name/\(name)" } else { "$aws/things/\(thing)/shadow" }
    }

    public var description: String { name.map { "\(thing)/\($0)" } ?? thing }

    public static func < (lhs: ShadowKey, rhs: ShadowKey) -> Bool {
        if lhs.thing != rhs.thing { return lhs.thing < rhs.thing }
        return (lhs.name ?? "") < (rhs.name ?? "")
    }

    /// Checks the names against the limits (spec §1.1, Greengrass's local patterns: `[a-zA-Z0-9:_-]+`).
    public func validate(_ limits: ShadowLimits) -> ShadowError? {
        if let problem = Self.problem(with: thing, what: "Thing name", maximum: limits.maximumThingNameLength) {
            return .invalidName(problem)
        }
        if let name, let problem = Self.problem(with: name, what: "Shadow name", maximum: limits.maximumShadowNameLength) {
            return .invalidName(problem)
        }
        return nil
    }

    private static func problem(with name: String, what: String, maximum: Int) -> String? {
        let count = name.utf8.count
        if count == 0 { return "\(what) must not be empty" }
        if count > maximum { return "\(what) has a maximum length of \(maximum)" }
        let allowed = name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: ":"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
        return allowed ? nil : "\(what) must match the pattern [a-zA-Z0-9:_-]+"
    }
}
