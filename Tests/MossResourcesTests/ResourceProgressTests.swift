import Testing

@testable import MossResources

@Suite struct ResourceProgressTests {
    @Test func aTransferIsShownWithItsBytesTotalAndRateUntilItFinishes() async throws {
        let progress = ResourceProgress()
        #expect(progress.snapshot().isEmpty)
        progress.begin("model", source: "s3://greengrass-models/model.zip")
        progress.setTotal("model", 1000)
        progress.add("model", bytes: 250)
        try await Task.sleep(for: .milliseconds(20))
        progress.add("model", bytes: 250)
        let shown = try #require(progress.snapshot().first)
        #expect(shown.resourceId == "model" && shown.source == "s3://greengrass-models/model.zip")
        #expect(shown.bytes == 500 && shown.total == 1000)
        #expect(shown.elapsedSeconds >= 0.02)
        #expect(shown.bytesPerSecond > 0 && shown.bytesPerSecond <= 500 / 0.02)
        progress.finish("model")
        #expect(progress.snapshot().isEmpty)
    }
}
