import Foundation
import MossDeploy
import MossRouting
import SwiftASN1
import X509

/// Puts the group's subscription table into the broker's interceptor (ARCHITECTURE.md, "Broker and router").
struct RoutingStage: DeploymentStage {
    let interceptor: RoutingInterceptor

    func prepare(_ group: GroupDefinition?) async throws -> any PreparedStage {
        Prepared(interceptor: interceptor, table: try group.map(Self.table))
    }

    static func table(of group: GroupDefinition) throws(DeploymentStageError) -> RoutingTable {
        var thingsByFingerprint: [String: String] = [:]
        for device in group.devices {
            switch device.certificate {
            case .fingerprint(let hex)?: thingsByFingerprint[hex] = device.thingName
            case .file(let path)?: thingsByFingerprint[try fingerprint(ofPEMFile: path, thing: device.thingName)] = device.thingName
            case nil: break
            }
        }
        return RoutingTable(
            routes: group.subscriptions.map { subscription in
                Route(
                    id: subscription.id,
                    source: endpoint(subscription.source),
                    filter: subscription.subject,
                    target: endpoint(subscription.target)
                )
            },
            devices: Set(group.devices.map(\.thingName)),
            thingsByFingerprint: thingsByFingerprint
        )
    }

    /// The SHA-256 of a device certificate file, which identifies the device on the TLS listener.
    static func fingerprint(ofPEMFile path: String, thing: String) throws(DeploymentStageError) -> String {
        do {
            let pem = try String(contentsOfFile: path, encoding: .utf8)
            return try IssuedCertificate.fingerprint(of: try Certificate(pemEncoded: pem))
        } catch {
            throw DeploymentStageError(
                code: "CertificateUnreadable",
                message: "The certificate of device \(thing) at \(path) is not a readable PEM certificate: \(error)"
            )
        }
    }

    static func endpoint(_ endpoint: Endpoint) -> RouteEndpoint {
        switch endpoint {
        case .device(let thing): .device(thing)
        case .function(let name): .function(name)
        case .cloud: .cloud
        case .shadow: .shadow
        case .pipeline(let id): .pipeline(id)
        }
    }

    private struct Prepared: PreparedStage {
        let interceptor: RoutingInterceptor
        let table: RoutingTable?

        func activate() { interceptor.install(table) }
        func discard() async {}
    }
}
