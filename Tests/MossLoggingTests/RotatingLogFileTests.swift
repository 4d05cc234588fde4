import Foundation
import MossLogging
import Testing

@Suite struct RotatingLogFileTests {
    private func temporaryPath() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("moss-log-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("f.log").path
    }

    private func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    @Test func staysWithinItsBoundAndKeepsTheNewestLines() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let file = try RotatingLogFile(path: path, limitBytes: 16 * 1024)
        for line in 0..<2000 { file.append(Array("line \(line) of the log\n".utf8)) }
        file.close()
        #expect(size(path) + size(path + ".1") <= 16 * 1024)
        #expect(size(path + ".1") > 0)
        let newest = try String(contentsOfFile: path, encoding: .utf8)
        #expect(newest.hasSuffix("line 1999 of the log\n"))
        // Nothing between the rotated file and the current one is lost.
        let rotated = try String(contentsOfFile: path + ".1", encoding: .utf8)
        let lines = (rotated + newest).split(separator: "\n")
        let numbers = lines.compactMap { Int($0.split(separator: " ")[1]) }
        #expect(numbers == Array(numbers.first!...1999))
    }

    @Test func appendsToAnExistingFileAndCountsItsSize() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try Data(repeating: UInt8(ascii: "x"), count: 7000).write(to: URL(fileURLWithPath: path))
        let file = try RotatingLogFile(path: path, limitBytes: 16 * 1024)
        file.append(Array(repeating: UInt8(ascii: "y"), count: 2000))
        file.close()
        // 7000 + 2000 > 8192 (half the bound): the old content rotated away first.
        #expect(size(path + ".1") == 7000)
        #expect(size(path) == 2000)
    }

    @Test func timestampsCompleteLinesAndHoldsPartialOnes() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let file = try RotatingLogFile(path: path, limitBytes: 64 * 1024)
        let lines = TimestampedLines(sink: file)
        lines.feed(Array("first li".utf8))
        #expect(size(path) == 0)
        lines.feed(Array("ne\nsecond\nthi".utf8))
        lines.feed(Array("rd".utf8))
        lines.finish()
        file.close()
        let written = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(written.count == 3)
        let pattern = #/^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\](.*)$/#
        #expect(written.compactMap { try? pattern.wholeMatch(in: $0)?.output.1 }.map(String.init) == ["first line", "second", "third"])
    }
}

extension RotatingLogFileTests {
    @Test func aRecordLongerThanHalfTheBoundKeepsItsEnd() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let file = try RotatingLogFile(path: path, limitBytes: 16 * 1024)
        file.append(Array(repeating: UInt8(ascii: "a"), count: 20_000) + Array("end\n".utf8))
        file.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.utf8.count == 8 * 1024 && text.hasSuffix("aend\n"))
    }
}
