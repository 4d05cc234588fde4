/// A Lambda function ARN, `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` (region and account are empty
/// for the core's own functions, e.g. `arn:aws:lambda:::function:GGRouter`).
public struct FunctionARN: Sendable, Hashable, CustomStringConvertible {
    public let region: String
    public let account: String
    public let name: String
    /// The version or alias; nil for an unqualified ARN.
    public let qualifier: String?

    public init(region: String, account: String, name: String, qualifier: String? = nil) {
        self.region = region
        self.account = account
        self.name = name
        self.qualifier = qualifier
    }

    /// Parses `text`; nil when it is not a Lambda function ARN.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 7 || parts.count == 8, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "lambda",
            parts[5] == "function", !parts[6].isEmpty
        else { return nil }
        if parts.count == 8 && parts[7].isEmpty { return nil }
        self.init(region: parts[3], account: parts[4], name: parts[6], qualifier: parts.count == 8 ? parts[7] : nil)
    }

    public var description: String {
        "arn:aws:lambda:\(region):\(account):function:\(name)" + (qualifier.map { ":\($0)" } ?? "")
    }
}
