import Crypto
import Foundation

extension GroupDefinition {
    /// The group as JSON with sorted keys, defaults filled in, and lists of uniquely named things sorted by
    /// their ids, so that two files meaning the same group give the same bytes. It is a valid group file.
    public func canonicalJSON() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(canonicalized()))
        } catch {
            // Every value here is a string, number, bool, list or map: encoding cannot fail.
            preconditionFailure("a group definition did not encode: \(error)")
        }
    }

    /// Lowercase hex SHA-256 of ``canonicalJSON()``: equal digests mean an unchanged group.
    public var digest: String {
        SHA256.hash(data: canonicalJSON()).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION`, the identity a function has on the V1 IPC.
    public func functionARN(_ function: Function, context: GroupContext) -> String {
        "arn:aws:lambda:\(context.region):\(context.account):function:\(function.name):\(function.version)"
    }

    /// An endpoint as V1 wrote it: a thing ARN, a function ARN, `cloud` or `GGShadowService`.
    public func v1Name(of endpoint: Endpoint, context: GroupContext) -> String {
        switch endpoint {
        case .device(let thing): "arn:aws:iot:\(context.region):\(context.account):thing/\(thing)"
        case .function(let name):
            functions.first { $0.name == name }.map { functionARN($0, context: context) }
                ?? "arn:aws:lambda:\(context.region):\(context.account):function:\(name)"
        case .cloud: "cloud"
        case .shadow: "GGShadowService"
        case .pipeline(let id): "pipeline:" + id
        }
    }

    /// Order carries no meaning in these lists (each item has a unique key), so it is normalised away.
    private func canonicalized() -> GroupDefinition {
        var group = self
        group.core.namedShadows.sort()
        for index in group.devices.indices { group.devices[index].namedShadows.sort() }
        group.devices.sort { $0.thingName < $1.thingName }
        for index in group.functions.indices {
            group.functions[index].resourceAccessPolicies.sort { $0.resourceId < $1.resourceId }
        }
        group.functions.sort { $0.id < $1.id }
        group.subscriptions.sort { $0.id < $1.id }
        group.resources.sort { $0.id < $1.id }
        group.pipelines.sort { $0.id < $1.id }
        group.logging.sort { ($0.component.rawValue, $0.type.rawValue) < ($1.component.rawValue, $1.type.rawValue) }
        return group
    }
}
