/// A source or target of a subscription. Encoded as its short name (`device:NAME`, `function:NAME`,
/// `cloud`, `shadow`, `pipeline:ID`), which is also its description.
public enum Endpoint: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A client device, by thing name.
    case device(String)
    /// A user function, by function name.
    case function(String)
    /// AWS IoT Core.
    case cloud
    /// The local shadow service (V1's `GGShadowService`).
    case shadow
    /// A declarative inference pipeline of the group, by id (a Moss addition).
    case pipeline(String)

    public var description: String {
        switch self {
        case .device(let name): "device:" + name
        case .function(let name): "function:" + name
        case .cloud: "cloud"
        case .shadow: "shadow"
        case .pipeline(let id): "pipeline:" + id
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        let context = GroupContext()
        switch EndpointSyntax.parse(text, context: context) {
        case .success(let reference): self = reference.endpoint
        case .failure(let problem):
            throw DecodingError.dataCorruptedError(in: container, debugDescription: problem.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
