import MossDeploy

/// Files that "exist" for tests: validation asks through `GroupContext.fileExists`, never the disk.
let existingFiles: Set<String> = [
    "/g/repub", "/g/repub/app.py", "/g/pkg", "/g/pkg/mod/__init__.py", "/g/bin", "/g/bin/run", "/g/code.zip",
    "/g/certs/s.pem", "/g/certs/t.pem", "/g/models/m.zip",
]

let testContext = GroupContext(
    region: "us-east-1",
    account: "000000000000",
    baseDirectory: "/g",
    fileExists: { existingFiles.contains($0) }
)

/// Every diagnostic for `yaml` as text, whether the group was refused or accepted with warnings.
func diagnostics(_ yaml: String) -> [String] {
    do {
        return try GroupFile.parse(yaml, file: "g.yaml", context: testContext).warnings.map(\.description)
    } catch {
        return error.diagnostics.map(\.description)
    }
}

func parsed(_ yaml: String) throws -> GroupDefinition {
    try GroupFile.parse(yaml, file: "g.yaml", context: testContext).group
}
