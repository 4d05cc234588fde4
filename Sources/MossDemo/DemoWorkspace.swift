import Foundation
import MossCore

/// Lays out the demo in its data directory on every start: certificates (made once, with `moss certs`' code), the
/// functions' code and the models from the binary's resources, greengrasssdk beside each function (pip `--target`,
/// once), and the group file. Everything stays in DATA_DIR/demo for the curious.
struct DemoWorkspace {
    static let thing = "bme680-sensor"
    static let core = "moss-demo-core"
    static let functionNames = ["republisher", "rain_inference"]

    let settings: DemoSettings
    let say: @Sendable (String) -> Void

    var root: String { settings.dataDirectory }
    var demo: String { root + "/demo" }
    var certificates: CertificateDirectory { DataDirectory(path: root).certificates }

    /// What was laid out: the group file to deploy.
    struct Layout {
        var groupFile: String
    }

    func prepare() throws -> Layout {
        let manager = FileManager.default
        // The daemon sets the data directory's final modes; functions' users must be able to pass through it.
        try manager.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        try makeCertificates()
        try copyAssets()
        let functions = settings.pipelineOnly ? false : installGreengrassSDK()
        let groupFile = demo + "/group.yaml"
        let group = DemoGroup(
            demoDirectory: demo,
            deviceCertificate: certificates.deviceCertificate(Self.thing),
            settings: settings,
            withFunctions: functions
        )
        try Data(group.yaml.utf8).write(to: URL(fileURLWithPath: groupFile))
        return Layout(groupFile: groupFile)
    }

    private func makeCertificates() throws {
        let certificates = self.certificates
        if !certificates.hasServerCredentials {
            _ = try certificates.initialize(
                names: [try SubjectAlternativeName(parsing: "localhost"), try SubjectAlternativeName(parsing: "127.0.0.1")],
                force: true
            )
            say("Made a local CA and the core's certificate in \(certificates.path)")
        }
        if !FileManager.default.fileExists(atPath: certificates.deviceCertificate(Self.thing)) {
            _ = try certificates.issueDevice(thingName: Self.thing)
            say("Made the sensor's certificate: \(certificates.deviceCertificate(Self.thing))")
        }
    }

    /// The binary's assets, copied afresh so a new Moss brings its new demo; world-readable, since functions run as
    /// their own user.
    private func copyAssets() throws {
        guard let assets = Bundle.module.url(forResource: "Assets", withExtension: nil)?.path else {
            throw DemoError("the demo's assets are missing from this build of moss (moss_MossDemo.resources)")
        }
        let manager = FileManager.default
        try manager.createDirectory(atPath: demo, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        for kind in ["functions", "models"] {
            let source = assets + "/" + kind
            guard let files = manager.enumerator(atPath: source) else { continue }
            for case let relative as String in files {
                let from = source + "/" + relative
                let to = demo + "/" + kind + "/" + relative
                var isDirectory: ObjCBool = false
                _ = manager.fileExists(atPath: from, isDirectory: &isDirectory)
                if isDirectory.boolValue {
                    try manager.createDirectory(atPath: to, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
                    continue
                }
                try manager.createDirectory(
                    atPath: (to as NSString).deletingLastPathComponent,
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o755]
                )
                if manager.fileExists(atPath: to) { try manager.removeItem(atPath: to) }
                try manager.copyItem(atPath: from, toPath: to)
                try manager.setAttributes([.posixPermissions: 0o644], ofItemAtPath: to)
            }
        }
    }

    /// greengrasssdk in each function's code directory, as the tutorial packs it into the Lambda's zip. pip
    /// `--target` from PyPI once; without pip or network, a copy from a Python that already has it. False when
    /// neither works: the demo then runs the declarative pipeline alone.
    private func installGreengrassSDK() -> Bool {
        let manager = FileManager.default
        let functionDirectories = Self.functionNames.map { demo + "/functions/" + $0 }
        if functionDirectories.allSatisfy({ manager.fileExists(atPath: $0 + "/greengrasssdk/__init__.py") }) { return true }
        let staging = demo + "/greengrasssdk"
        var source: String? = manager.fileExists(atPath: staging + "/greengrasssdk/__init__.py") ? staging + "/greengrasssdk" : nil
        if source == nil {
            say("Installing greengrasssdk for the functions (pip install --target \(staging) greengrasssdk) …")
            for pip in [["python3", "-m", "pip"], ["/usr/bin/python3", "-m", "pip"], ["pip3"]] {
                let arguments = pip + ["install", "--quiet", "--disable-pip-version-check", "--no-deps", "--target", staging, "greengrasssdk==1.6.1"]
                if Self.capture(arguments) != nil, manager.fileExists(atPath: staging + "/greengrasssdk/__init__.py") {
                    source = staging + "/greengrasssdk"
                    break
                }
            }
        }
        if source == nil, let installed = Self.installedGreengrassSDK() {
            say("pip could not fetch greengrasssdk; using the copy installed at \(installed)")
            source = installed
        }
        guard let source else {
            say("greengrasssdk could not be installed (no pip, or no network): the demo runs the declarative pipeline alone")
            return false
        }
        do {
            for directory in functionDirectories {
                let target = directory + "/greengrasssdk"
                if manager.fileExists(atPath: target) { try manager.removeItem(atPath: target) }
                try manager.copyItem(atPath: source, toPath: target)
                try Self.makeReadable(target)
            }
            return true
        } catch {
            say("greengrasssdk could not be copied beside the functions (\(error)): the demo runs the declarative pipeline alone")
            return false
        }
    }

    private static func makeReadable(_ path: String) throws {
        let manager = FileManager.default
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        for case let relative as String in manager.enumerator(atPath: path) ?? FileManager.DirectoryEnumerator() {
            let full = path + "/" + relative
            var isDirectory: ObjCBool = false
            _ = manager.fileExists(atPath: full, isDirectory: &isDirectory)
            try manager.setAttributes([.posixPermissions: isDirectory.boolValue ? 0o755 : 0o644], ofItemAtPath: full)
        }
    }

    /// Where a python3 on PATH has greengrasssdk installed, if one does.
    private static func installedGreengrassSDK() -> String? {
        let script = "import greengrasssdk, os; print(os.path.dirname(greengrasssdk.__file__))"
        for python in ["python3", "/usr/bin/python3"] {
            if let output = capture([python, "-c", script]), !output.isEmpty,
                FileManager.default.fileExists(atPath: output + "/__init__.py")
            {
                return output
            }
        }
        return nil
    }

    /// Runs a program found on PATH; its output when it exits 0, else nil. Its stderr is not shown (the view owns the
    /// terminal).
    private static func capture(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

struct DemoError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
