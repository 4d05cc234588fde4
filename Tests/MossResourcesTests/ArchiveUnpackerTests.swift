import Foundation
import MossTestSupport
import Testing
import ZIPFoundation

@testable import MossResources

/// Safe unpacking: what a good package becomes on disk, and a refusal with its own error for each bad one.
@Suite struct ArchiveUnpackerTests {
    /// The tutorial's models, read from ../shared at run time (never copied into the repository).
    static let seedModels = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/seed-models").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: seedModels), "../shared/seed-models is not there"))
    func theTutorialsSavedModelsUnpack() async throws {
        try await withTemporaryDirectory { directory in
            for model in ["standardiser", "rain_predictor"] {
                let unpacked = try ArchiveUnpacker.unpack(
                    "\(Self.seedModels)/\(model).zip",
                    into: "\(directory)/\(model)",
                    limits: UnpackLimits()
                )
                #expect(unpacked.directory == "\(directory)/\(model)")
                #expect(unpacked.entries == 3)
                for file in ["saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"] {
                    #expect(FileManager.default.fileExists(atPath: "\(unpacked.directory)/\(file)"), "\(model)/\(file)")
                }
            }
        }
    }

    @Test func aTarGzWithOneParentDirectoryUnpacksToItsContent() async throws {
        try await withTemporaryDirectory { directory in
            let package = "\(directory)/model.tar.gz"
            let tar = TestArchives.tar([
                .init(name: "model/", type: "5", mode: 0o755),
                .init(name: "model/saved_model.pb", content: Array("graph".utf8)),
                .init(name: "model/variables/variables.index", content: Array("index".utf8)),
                .init(name: "model/latest", type: "2", link: "saved_model.pb"),
            ])
            try Data(TestArchives.gzip(tar)).write(to: URL(fileURLWithPath: package))
            let unpacked = try ArchiveUnpacker.unpack(package, into: "\(directory)/out", limits: UnpackLimits())
            #expect(unpacked.directory == "\(directory)/out/model")
            #expect(try String(contentsOfFile: "\(unpacked.directory)/saved_model.pb", encoding: .utf8) == "graph")
            #expect(
                try String(contentsOfFile: "\(unpacked.directory)/variables/variables.index", encoding: .utf8)
                    == "index"
            )
            #expect(
                try FileManager.default.destinationOfSymbolicLink(atPath: "\(unpacked.directory)/latest")
                    == "saved_model.pb"
            )
            #expect(unpacked.bytes == 10)
        }
    }

    @Test func aZipWithOneParentDirectoryUnpacksToItsContent() async throws {
        try await withTemporaryDirectory { directory in
            let package = "\(directory)/model.zip"
            try TestArchives.zip(
                [.init(path: "model/", type: .directory), .init(path: "model/a.txt", content: Array("A".utf8))],
                at: package
            )
            let unpacked = try ArchiveUnpacker.unpack(package, into: "\(directory)/out", limits: UnpackLimits())
            #expect(unpacked.directory == "\(directory)/out/model")
            #expect(try String(contentsOfFile: "\(unpacked.directory)/a.txt", encoding: .utf8) == "A")
        }
    }

    /// A bad package, the error code it must get, and words its message must contain.
    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var code: ResourceError.Code
        var mentions: String
        var limits = UnpackLimits()
        var write: @Sendable (String) throws -> Void
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "zip slip", code: .archiveUnsafe, mentions: "zip slip") { path in
            try TestArchives.zip([.init(path: "../evil.txt", content: Array("x".utf8))], at: path)
        },
        Refusal(name: "zip slip in a tar", code: .archiveUnsafe, mentions: "\"..\"") { path in
            try Data(TestArchives.gzip(TestArchives.tar([.init(name: "a/../../evil", content: [1])])))
                .write(to: URL(fileURLWithPath: path))
        },
        Refusal(name: "an absolute path", code: .archiveUnsafe, mentions: "absolute path") { path in
            try Data(TestArchives.gzip(TestArchives.tar([.init(name: "/etc/evil", content: [1])])))
                .write(to: URL(fileURLWithPath: path))
        },
        Refusal(name: "a zip symlink leaving the directory", code: .archiveUnsafe, mentions: "outside") { path in
            try TestArchives.zip([.init(path: "escape", type: .symlink, content: Array("../../etc".utf8))], at: path)
        },
        Refusal(name: "a tar symlink to an absolute path", code: .archiveUnsafe, mentions: "outside") { path in
            try Data(TestArchives.gzip(TestArchives.tar([.init(name: "passwd", type: "2", link: "/etc/passwd")])))
                .write(to: URL(fileURLWithPath: path))
        },
        Refusal(name: "a file written through a link", code: .archiveUnsafe, mentions: "through the link") { path in
            let tar = TestArchives.tar([
                .init(name: "dir", type: "2", link: "."), .init(name: "dir/file", content: [1]),
            ])
            try Data(TestArchives.gzip(tar)).write(to: URL(fileURLWithPath: path))
        },
        Refusal(name: "a device file", code: .archiveUnsafe, mentions: "device") { path in
            try Data(TestArchives.gzip(TestArchives.tar([.init(name: "sda", type: "4")])))
                .write(to: URL(fileURLWithPath: path))
        },
        Refusal(name: "a zip entry whose Unix mode is a character device", code: .archiveUnsafe, mentions: "device") {
            path in
            try TestArchives.zip([.init(path: "tty", content: [1])], at: path)
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            // The central directory entry: made on Unix (3), external attributes S_IFCHR | 0644 in the high half.
            let entry = try #require(
                (0..<(bytes.count - 4)).first { bytes[$0..<($0 + 4)] == [0x50, 0x4B, 0x01, 0x02] }
            )
            bytes[entry + 5] = 3
            let attributes = UInt32(0o020644) << 16
            for index in 0..<4 { bytes[entry + 38 + index] = UInt8(truncatingIfNeeded: attributes >> (8 * index)) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        },
        Refusal(name: "a FIFO", code: .archiveUnsafe, mentions: "FIFO") { path in
            try Data(TestArchives.gzip(TestArchives.tar([.init(name: "pipe", type: "6")])))
                .write(to: URL(fileURLWithPath: path))
        },
        Refusal(
            name: "a zip bomb",
            code: .archiveTooLarge,
            mentions: "resources.maximumUnpackedBytes",
            limits: UnpackLimits(maximumBytes: 1 << 20)
        ) { path in
            try TestArchives.zip([.init(path: "zeros", content: [UInt8](repeating: 0, count: 8 << 20))], at: path)
        },
        Refusal(
            name: "a tar.gz bomb",
            code: .archiveTooLarge,
            mentions: "resources.maximumUnpackedBytes",
            limits: UnpackLimits(maximumBytes: 1 << 20)
        ) { path in
            let tar = TestArchives.tar([.init(name: "zeros", content: [UInt8](repeating: 0, count: 4 << 20))])
            try Data(TestArchives.gzip(tar)).write(to: URL(fileURLWithPath: path))
        },
        Refusal(
            name: "too many files",
            code: .archiveTooLarge,
            mentions: "resources.maximumEntries",
            limits: UnpackLimits(maximumEntries: 10)
        ) { path in
            try TestArchives.zip((0..<11).map { .init(path: "f\($0)", content: [1]) }, at: path)
        },
        Refusal(name: "a truncated zip", code: .archiveCorrupt, mentions: "zip") { path in
            try TestArchives.zip([.init(path: "a", content: [UInt8](repeating: 7, count: 4096))], at: path)
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        },
        Refusal(name: "a tar with a damaged header", code: .archiveCorrupt, mentions: "checksum") { path in
            var tar = TestArchives.tar([.init(name: "a", content: [1, 2, 3])])
            tar[10] = UInt8(ascii: "x")
            try Data(TestArchives.gzip(tar)).write(to: URL(fileURLWithPath: path))
        },
        Refusal(name: "a truncated gzip", code: .archiveCorrupt, mentions: "truncated") { path in
            let gz = TestArchives.gzip(
                TestArchives.tar([.init(name: "a", content: [UInt8](repeating: 9, count: 100_000))])
            )
            try Data(gz.prefix(gz.count / 2)).write(to: URL(fileURLWithPath: path))
        },
        Refusal(name: "not an archive", code: .archiveCorrupt, mentions: "neither a zip") { path in
            try Data("hello, I am a model".utf8).write(to: URL(fileURLWithPath: path))
        },
    ]

    @Test(arguments: refusals)
    func aBadPackageIsRefusedWithItsOwnError(_ refusal: Refusal) async throws {
        try await withTemporaryDirectory { directory in
            let package = "\(directory)/package"
            try refusal.write(package)
            let error = #expect(throws: ResourceError.self) {
                try ArchiveUnpacker.unpack(package, into: "\(directory)/out", limits: refusal.limits)
            }
            #expect(error?.code == refusal.code, "\(String(describing: error))")
            #expect(error?.message.contains(refusal.mentions) == true, "\(String(describing: error))")
            // Nothing was written outside the target.
            #expect(!FileManager.default.fileExists(atPath: "\(directory)/evil.txt"))
            #expect(!FileManager.default.fileExists(atPath: "\(directory)/evil"))
        }
    }
}
