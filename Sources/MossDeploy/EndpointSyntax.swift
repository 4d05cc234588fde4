/// Why a piece of text is not what its field needs; the message is a diagnostic's text.
struct SyntaxProblem: Error, Hashable {
    let message: String
}

/// An endpoint as written in a subscription, before it is resolved against the group.
struct EndpointReference: Hashable {
    var endpoint: Endpoint
    /// The version or alias of a Lambda ARN; it must be the function's `version`.
    var qualifier: String?
}

/// Reads endpoints in both spellings: V1's (`arn:aws:iot:…:thing/NAME`, `arn:aws:lambda:…:function:NAME:VERSION`,
/// `cloud`, `GGShadowService`) and Moss's short names (`device:NAME`, `function:NAME`, `pipeline:ID`, `cloud`, `shadow`).
enum EndpointSyntax {
    static func parse(_ text: String, context: GroupContext) -> Result<EndpointReference, SyntaxProblem> {
        switch text {
        case "cloud": return .success(EndpointReference(endpoint: .cloud))
        case "shadow", "GGShadowService": return .success(EndpointReference(endpoint: .shadow))
        default: break
        }
        if text.hasPrefix("device:") {
            return .success(EndpointReference(endpoint: .device(String(text.dropFirst(7)))))
        }
        if text.hasPrefix("function:") {
            return .success(EndpointReference(endpoint: .function(String(text.dropFirst(9)))))
        }
        if text.hasPrefix("pipeline:") {
            return .success(EndpointReference(endpoint: .pipeline(String(text.dropFirst(9)))))
        }
        if text.hasPrefix("arn:") {
            return parseARN(text, context: context)
        }
        return .failure(SyntaxProblem(message: "\(quoted(text)) is not an endpoint; \(expected(context))"))
    }

    static func expected(_ context: GroupContext) -> String {
        let scope = "\(context.region):\(context.account)"
        return "expected device:THING, function:NAME, pipeline:ID, cloud, shadow, GGShadowService, "
            + "arn:aws:iot:\(scope):thing/THING or arn:aws:lambda:\(scope):function:NAME:VERSION"
    }

    private static func parseARN(_ text: String, context: GroupContext) -> Result<EndpointReference, SyntaxProblem> {
        // arn:partition:service:region:account:resource; the resource may contain ':' (lambda).
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[1] == "aws" else {
            return .failure(SyntaxProblem(message: "\(quoted(text)) is not an endpoint; \(expected(context))"))
        }
        let (service, region, account, resource) = (parts[2], parts[3], parts[4], parts[5])
        switch service {
        case "iot", "lambda": break
        case "greengrass":
            return .failure(SyntaxProblem(message: "\(quoted(text)): connectors are not supported by Moss"))
        default:
            return .failure(SyntaxProblem(message: "\(quoted(text)) is not an endpoint; \(expected(context))"))
        }
        if region != context.region || account != context.account {
            return .failure(
                SyntaxProblem(
                    message: "\(quoted(text)) names region \(quoted(region)) and account \(quoted(account)); "
                        + "this core's ARNs use region \(quoted(context.region)) "
                        + "and account \(quoted(context.account))"
                )
            )
        }
        if service == "iot" {
            guard resource.hasPrefix("thing/"), resource.count > 6 else {
                return .failure(
                    SyntaxProblem(message: "\(quoted(text)) is not a thing ARN; expected …:thing/THING")
                )
            }
            return .success(EndpointReference(endpoint: .device(String(resource.dropFirst(6)))))
        }
        let lambda = resource.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard lambda.count == 3, lambda[0] == "function", !lambda[1].isEmpty, !lambda[2].isEmpty else {
            let message =
                lambda.count == 2 && lambda[0] == "function"
                ? "\(quoted(text)) has no version; V1 needs a function ARN with a version or alias, "
                    + "e.g. \(text):1"
                : "\(quoted(text)) is not a function ARN; expected …:function:NAME:VERSION"
            return .failure(SyntaxProblem(message: message))
        }
        return .success(EndpointReference(endpoint: .function(lambda[1]), qualifier: lambda[2]))
    }
}
