import Foundation
import Testing

@testable import MossStore

@Suite("MossDatabase: shadow rows")
struct ShadowRowTests {
    private func row(_ thing: String, _ name: String?, version: Int64, deleted: Bool = false) -> ShadowRow {
        ShadowRow(
            thing: thing,
            name: name,
            version: version,
            state: deleted ? nil : Array(#"{"reported":{"v":\#(version)}}"#.utf8),
            metadata: deleted ? nil : Array(#"{"reported":{"v":{"timestamp":1}}}"#.utf8),
            deletedAt: deleted ? 7 : nil,
            updatedAt: 9
        )
    }

    @Test func commitsUpsertAndLoadLiveAndDeletedRows() async throws {
        let database = try MossDatabase.inMemory()
        try await database.commitShadows([row("t1", nil, version: 1), row("t1", "cfg", version: 1)])
        try await database.commitShadows([row("t1", nil, version: 2), row("t1", "cfg", version: 1, deleted: true)])
        #expect(try await database.loadShadow(thing: "t1", name: nil) == row("t1", nil, version: 2))
        #expect(try await database.loadShadow(thing: "t1", name: "cfg") == row("t1", "cfg", version: 1, deleted: true))
        #expect(try await database.loadShadow(thing: "t2", name: nil) == nil)
    }

    @Test func listsLiveShadowsInOrderWithPaging() async throws {
        let database = try MossDatabase.inMemory()
        try await database.commitShadows([
            row("b", "z", version: 1), row("a", nil, version: 3), row("b", nil, version: 1),
            row("b", "y", version: 2), row("b", "gone", version: 4, deleted: true),
        ])
        let all = try await database.listShadows(thing: nil, afterThing: nil, afterName: nil, limit: 100)
        #expect(all.map { "\($0.thing)/\($0.name ?? "-")@\($0.version)" } == ["a/-@3", "b/-@1", "b/y@2", "b/z@1"])
        let page = try await database.listShadows(thing: "b", afterThing: "b", afterName: "y", limit: 1)
        #expect(page.map(\.name) == ["z"])
        let classicFirst = try await database.listShadows(thing: "b", afterThing: "b", afterName: nil, limit: 10)
        #expect(classicFirst.map(\.name) == ["y", "z"])
    }
}
