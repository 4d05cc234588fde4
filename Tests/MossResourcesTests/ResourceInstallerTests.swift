import Foundation
import Logging
import MossAWS
import MossTestSupport
import Testing

@testable import MossResources

/// Versions on disk with a local package: a new version beside the old, one switch, unchanged sources kept,
/// refusals leave nothing behind.
@Suite struct ResourceInstallerTests {
    private func installer(_ root: String) -> ResourceInstaller {
        let fetcher = ResourceFetcher(
            policy: ResourcePolicy(),
            progress: ResourceProgress(),
            httpClient: ResourceFetcher.downloadClient
        ) {
            () throws(ResourceError) -> AWSClient in
            throw ResourceError(.credentialsMissing, "no AWS in this test")
        }
        return ResourceInstaller(
            root: root,
            fetcher: fetcher,
            limits: UnpackLimits(),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        )
    }

    private func writeZip(_ path: String, content: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        try TestArchives.zip([.init(path: "model.txt", content: Array(content.utf8))], at: path)
    }

    private func versions(_ root: String, _ id: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(id)/versions")) ?? [])
            .filter { !$0.hasSuffix(".json") }.sorted()
    }

    @Test func aChangedSourceIsANewVersionSwitchedInAndTheOldOneRemoved() async throws {
        try await withTemporaryDirectory { directory in
            let root = "\(directory)/resources"
            let package = "\(directory)/model.zip"
            let installer = installer(root)
            try writeZip(package, content: "one")
            let request = ResourceRequest(id: "model", source: .file(package), sha256: nil, owner: nil)

            let first = try await installer.prepare(request)
            #expect(first.isNew)
            // Prepared, not yet switched in.
            #expect(installer.installed("model") == nil)
            installer.activate(first)
            #expect(try String(contentsOfFile: "\(root)/model/current/model.txt", encoding: .utf8) == "one")

            let unchanged = try await installer.prepare(request)
            #expect(!unchanged.isNew)
            #expect(unchanged.directory == first.directory)

            try writeZip(package, content: "two")
            // A different mtime or size is a change; make sure one of them differs.
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: 10)],
                ofItemAtPath: package
            )
            let second = try await installer.prepare(request)
            #expect(second.isNew)
            #expect(second.directory != first.directory)
            #expect(versions(root, "model").count == 2)
            // The old version is still what `current` shows until the switch.
            #expect(try String(contentsOfFile: "\(root)/model/current/model.txt", encoding: .utf8) == "one")
            installer.activate(second)
            installer.removeUnused(keeping: ["model": second.record.version])
            #expect(try String(contentsOfFile: "\(root)/model/current/model.txt", encoding: .utf8) == "two")
            #expect(versions(root, "model") == [second.record.version])
            #expect(installer.list().map(\.version) == [second.record.version])
        }
    }

    @Test func aSHA256MismatchIsRefusedAndNothingIsInstalled() async throws {
        try await withTemporaryDirectory { directory in
            let root = "\(directory)/resources"
            let package = "\(directory)/model.zip"
            try writeZip(package, content: "one")
            let installer = installer(root)
            let pinned = ResourceRequest(
                id: "model",
                source: .file(package),
                sha256: String(repeating: "0", count: 64),
                owner: nil
            )
            let error = await #expect(throws: ResourceError.self) { try await installer.prepare(pinned) }
            #expect(error?.code == .checksumMismatch)
            #expect(versions(root, "model").isEmpty)
            #expect(installer.installed("model") == nil)
        }
    }

    @Test func aDiscardedVersionLeavesThePreviousOneInPlace() async throws {
        try await withTemporaryDirectory { directory in
            let root = "\(directory)/resources"
            let package = "\(directory)/model.zip"
            let installer = installer(root)
            try writeZip(package, content: "one")
            let request = ResourceRequest(id: "model", source: .file(package), sha256: nil, owner: nil)
            let first = try await installer.prepare(request)
            installer.activate(first)
            try writeZip(package, content: "two, longer")
            let second = try await installer.prepare(request)
            installer.discard(second)
            #expect(versions(root, "model") == [first.record.version])
            #expect(try String(contentsOfFile: "\(root)/model/current/model.txt", encoding: .utf8) == "one")
        }
    }

    @Test(arguments: [(false, 0o640, 0o750), (true, 0o660, 0o770)])
    func anOwnerGivesTheGroupReadOrReadWriteAccessAndOthersNone(
        writable: Bool,
        file: Int,
        directory mode: Int
    ) async throws {
        try await withTemporaryDirectory { directory in
            let root = "\(directory)/resources"
            let package = "\(directory)/model.zip"
            try writeZip(package, content: "one")
            let owner = try ResourceOwner(group: "\(getgid())", writable: writable)
            let prepared = try await installer(root).prepare(
                ResourceRequest(id: "model", source: .file(package), sha256: nil, owner: owner)
            )
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(prepared.directory)/model.txt")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == file)
            #expect((attributes[.groupOwnerAccountID] as? NSNumber)?.uint32Value == getgid())
            let top = try FileManager.default.attributesOfItem(atPath: prepared.directory)
            #expect((top[.posixPermissions] as? NSNumber)?.intValue == mode)
        }
    }

    @Test func anUnknownGroupOwnerIsRefusedByName() {
        let error = #expect(throws: ResourceError.self) {
            try ResourceOwner(group: "no-such-group-moss", writable: false)
        }
        #expect(error?.message.contains("\"no-such-group-moss\" is not a group") == true)
    }
}
