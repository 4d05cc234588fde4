import Foundation
import MossDeploy
import Testing

/// docs/group.schema.json must describe exactly the keys the parser accepts, so editors agree with Moss.
@Suite("JSON Schema") struct SchemaTests {
    private func schema() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: docsDirectory + "/group.schema.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func isDraft2020_12() throws {
        #expect(try schema()["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
    }

    @Test(arguments: GroupKeys.all.keys.sorted())
    func everyKeyTheParserAcceptsIsInTheSchema(kind: String) throws {
        let root = try schema()
        let definitions = try #require(root["$defs"] as? [String: Any])
        let definition = try #require(
            (kind == "group" ? root : definitions[kind]) as? [String: Any],
            "no $defs.\(kind)"
        )
        let properties = try #require(definition["properties"] as? [String: Any])
        #expect(Set(properties.keys) == Set(GroupKeys.all[kind] ?? []))
        #expect(definition["additionalProperties"] as? Bool == false)
    }

    @Test func theSchemaDefinesOnlyKindsTheParserKnows() throws {
        let definitions = try #require(try schema()["$defs"] as? [String: Any])
        let objects = definitions.filter { ($0.value as? [String: Any])?["properties"] != nil }.keys
        #expect(Set(objects).isSubset(of: Set(GroupKeys.all.keys)))
    }
}
