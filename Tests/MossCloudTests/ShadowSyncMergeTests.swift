import MossShadow
import MossTestSupport
import Testing

@testable import MossCloud

/// The three-way merge and the update documents the sync sends (docs/shadows.md, "Sync with the cloud").
@Suite struct ShadowSyncMergeTests {
    static func state(_ json: String) -> SyncedState? {
        json == "absent" ? nil : SyncedState(json: Array(json.utf8))
    }

    struct Case: Sendable, CustomStringConvertible {
        var rule: String
        var base: String
        var local: String
        var cloud: String
        var direction: ShadowSyncDirection = .both
        var expected: String
        var description: String { rule }
    }

    static let cases: [Case] = [
        Case(
            rule: "only local changed: local's value",
            base: #"{"reported":{"t":1}}"#, local: #"{"reported":{"t":2}}"#, cloud: #"{"reported":{"t":1}}"#,
            expected: #"{"reported":{"t":2}}"#
        ),
        Case(
            rule: "only cloud changed: cloud's value",
            base: #"{"desired":{"i":1}}"#, local: #"{"desired":{"i":1}}"#, cloud: #"{"desired":{"i":5}}"#,
            expected: #"{"desired":{"i":5}}"#
        ),
        Case(
            rule: "both changed reported: local wins",
            base: #"{"reported":{"t":1}}"#, local: #"{"reported":{"t":2}}"#, cloud: #"{"reported":{"t":3}}"#,
            expected: #"{"reported":{"t":2}}"#
        ),
        Case(
            rule: "both changed desired: cloud wins",
            base: #"{"desired":{"i":1}}"#, local: #"{"desired":{"i":2}}"#, cloud: #"{"desired":{"i":3}}"#,
            expected: #"{"desired":{"i":3}}"#
        ),
        Case(
            rule: "different keys changed on each side: both kept",
            base: #"{"reported":{"a":1,"b":1}}"#, local: #"{"reported":{"a":2,"b":1}}"#,
            cloud: #"{"reported":{"a":1,"b":2}}"#,
            expected: #"{"reported":{"a":2,"b":2}}"#
        ),
        Case(
            rule: "nested objects merge key by key",
            base: #"{"desired":{"led":{"r":0,"g":0}}}"#, local: #"{"desired":{"led":{"r":9,"g":0}}}"#,
            cloud: #"{"desired":{"led":{"r":0,"g":7}}}"#,
            expected: #"{"desired":{"led":{"r":9,"g":7}}}"#
        ),
        Case(
            rule: "a key removed on one side, unchanged on the other: removed",
            base: #"{"reported":{"a":1,"b":1}}"#, local: #"{"reported":{"b":1}}"#, cloud: #"{"reported":{"a":1,"b":1}}"#,
            expected: #"{"reported":{"b":1}}"#
        ),
        Case(
            rule: "removed locally, changed in the cloud (desired): the cloud's change wins",
            base: #"{"desired":{"a":1}}"#, local: #"{"desired":{}}"#, cloud: #"{"desired":{"a":2}}"#,
            expected: #"{"desired":{"a":2}}"#
        ),
        Case(
            rule: "never synced, both exist: sections merged by the conflict rules",
            base: "absent", local: #"{"reported":{"t":1},"desired":{"i":1}}"#,
            cloud: #"{"reported":{"t":9},"desired":{"i":9}}"#,
            expected: #"{"desired":{"i":9},"reported":{"t":1}}"#
        ),
        Case(
            rule: "never synced, only local exists: local",
            base: "absent", local: #"{"reported":{"t":1}}"#, cloud: "absent", expected: #"{"reported":{"t":1}}"#
        ),
        Case(
            rule: "never synced, only the cloud has it: the cloud's",
            base: "absent", local: "absent", cloud: #"{"desired":{"i":2}}"#, expected: #"{"desired":{"i":2}}"#
        ),
        Case(
            rule: "deleted locally, unchanged in the cloud: deleted",
            base: #"{"reported":{"t":1}}"#, local: "absent", cloud: #"{"reported":{"t":1}}"#, expected: "absent"
        ),
        Case(
            rule: "deleted in the cloud, unchanged locally: deleted",
            base: #"{"reported":{"t":1}}"#, local: #"{"reported":{"t":1}}"#, cloud: "absent", expected: "absent"
        ),
        Case(
            rule: "deleted in the cloud, changed locally: the changed shadow is kept",
            base: #"{"reported":{"t":1}}"#, local: #"{"reported":{"t":2}}"#, cloud: "absent",
            expected: #"{"reported":{"t":2}}"#
        ),
        Case(
            rule: "deleted locally, changed in the cloud: the changed shadow is kept",
            base: #"{"reported":{"t":1}}"#, local: "absent", cloud: #"{"reported":{"t":1},"desired":{"i":1}}"#,
            expected: #"{"reported":{"t":1},"desired":{"i":1}}"#
        ),
        Case(
            rule: "deviceToCloud: local as it is",
            base: #"{"desired":{"i":1}}"#, local: #"{"desired":{"i":2}}"#, cloud: #"{"desired":{"i":3}}"#,
            direction: .deviceToCloud, expected: #"{"desired":{"i":2}}"#
        ),
        Case(
            rule: "cloudToDevice: the cloud's as it is",
            base: #"{"reported":{"t":1}}"#, local: #"{"reported":{"t":2}}"#, cloud: #"{"reported":{"t":3}}"#,
            direction: .cloudToDevice, expected: #"{"reported":{"t":3}}"#
        ),
        Case(
            rule: "numbers compare by value: 1 and 1.0 are no change",
            base: #"{"reported":{"t":1}}"#, local: #"{"reported":{"t":1.0}}"#, cloud: #"{"reported":{"t":1}}"#,
            expected: #"{"reported":{"t":1}}"#
        ),
    ]

    @Test(arguments: cases) func merge(_ test: Case) {
        let merged = ShadowSyncMerge.merge(
            base: Self.state(test.base),
            local: Self.state(test.local),
            cloud: Self.state(test.cloud),
            direction: test.direction
        )
        #expect(merged == Self.state(test.expected))
    }

    @Test func patchHasChangedKeysAndNullsForRemovedOnes() throws {
        let current = try #require(Self.state(#"{"desired":{"a":1,"b":{"x":1,"y":2}},"reported":{"r":[1,2]}}"#))
        let target = try #require(Self.state(#"{"desired":{"a":1,"b":{"x":1},"c":true},"reported":{"r":[2,1]}}"#))
        let patch = try #require(ShadowSyncMerge.patch(from: current, to: target))
        #expect(
            String(decoding: JSONWriter.serialize(.object(patch)), as: UTF8.self)
                == #"{"desired":{"b":{"y":null},"c":true},"reported":{"r":[2,1]}}"#
        )
    }

    @Test func patchOfEqualStatesIsNil() throws {
        let state = try #require(Self.state(#"{"reported":{"t":1.5}}"#))
        #expect(ShadowSyncMerge.patch(from: state, to: state) == nil)
    }

    @Test func patchOfARemovedSectionNullsEachKey() throws {
        let current = try #require(Self.state(#"{"desired":{"a":1,"b":2},"reported":{"t":1}}"#))
        let target = try #require(Self.state(#"{"reported":{"t":1}}"#))
        let patch = try #require(ShadowSyncMerge.patch(from: current, to: target))
        #expect(String(decoding: JSONWriter.serialize(.object(patch)), as: UTF8.self) == #"{"desired":{"a":null,"b":null}}"#)
    }

    @Test func applyingThePatchWithTheShadowRulesGivesTheTarget() async throws {
        // The patch is what the sync sends either way; the local service's rules must turn current into target.
        let service = ShadowService(store: InMemoryShadowStore(), publisher: { _ in })
        let runner = Task { await service.run() }
        defer {
            service.finish()
            runner.cancel()
        }
        let key = ShadowKey(thing: "t")
        let current = try #require(Self.state(#"{"desired":{"a":1,"b":{"x":1,"y":2}},"reported":{"r":[1,2],"s":"x"}}"#))
        let target = try #require(Self.state(#"{"desired":{"b":{"x":3}},"reported":{"r":[2],"n":{"deep":true}}}"#))
        let first = ShadowSyncMerge.updateDocument(state: try #require(ShadowSyncMerge.patch(from: nil, to: current)), version: nil, clientToken: "c")
        _ = await service.update(key, payload: first)
        let second = ShadowSyncMerge.updateDocument(state: try #require(ShadowSyncMerge.patch(from: current, to: target)), version: 1, clientToken: "c")
        guard case .accepted = await service.update(key, payload: second) else {
            Issue.record("the patch was refused")
            return
        }
        let document = await service.get(key).reply
        #expect(SyncedState.fromDocument(document)?.state == target)
        #expect(SyncedState.fromDocument(document)?.version == 2)
    }
}
