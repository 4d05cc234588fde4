import Foundation
import NIOHTTP1

extension AdminClient {
    /// A function's log from `offset`; returns the bytes and the offset to ask from next.
    public func functionLog(_ name: String, from offset: UInt64) async throws(AdminClientError) -> (text: [UInt8], next: UInt64) {
        try await log("/v1/logs/functions/\(name)", from: offset)
    }

    /// The daemon's own log from `offset`.
    public func systemLog(from offset: UInt64) async throws(AdminClientError) -> (text: [UInt8], next: UInt64) {
        try await log("/v1/logs/system", from: offset)
    }

    private func log(_ path: String, from offset: UInt64) async throws(AdminClientError) -> (text: [UInt8], next: UInt64) {
        let (status, body, headers) = try await sendWithHeaders(.GET, "\(path)?offset=\(offset)")
        guard status == 200 else { throw Self.serverError(status: status, body: body) }
        let next = headers["X-Moss-Log-Offset"].flatMap { UInt64($0) } ?? offset + UInt64(body.count)
        return (body, next)
    }
}
