import Foundation

/// A worker's memory cgroup: v1 (`memory.limit_in_bytes`, what these gateways have) or v2 (`memory.max`).
public enum MemoryCgroup {
    /// Where Moss's workers' cgroups go, or nil when no memory cgroup hierarchy is writable here.
    public static func parentDirectory() -> String? {
        let manager = FileManager.default
        if manager.fileExists(atPath: "/sys/fs/cgroup/memory/memory.limit_in_bytes") {
            return writable("/sys/fs/cgroup/memory/moss")
        }
        if manager.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers"),
            (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8))?.contains("memory") == true
        {
            return writable("/sys/fs/cgroup/moss")
        }
        return nil
    }

    private static func writable(_ directory: String) -> String? {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // v2: the parent must delegate the memory controller to its children.
            let control = directory + "/cgroup.subtree_control"
            if FileManager.default.fileExists(atPath: control) { try? "+memory".write(toFile: control, atomically: false, encoding: .utf8) }
            return access(directory, W_OK) == 0 ? directory : nil
        } catch {
            return nil
        }
    }

    /// Creates `cgroup` with `limitBytes` and moves the calling process into it (the launcher, before it executes
    /// the worker, which inherits the membership).
    static func join(_ cgroup: String, limitBytes: Int) throws {
        try FileManager.default.createDirectory(atPath: cgroup, withIntermediateDirectories: true)
        let v1 = cgroup + "/memory.limit_in_bytes"
        let limitFile = FileManager.default.fileExists(atPath: v1) ? v1 : cgroup + "/memory.max"
        try "\(limitBytes)".write(toFile: limitFile, atomically: false, encoding: .utf8)
        // Without swap accounting a v1 limit is still enforced on memory; set memsw too where it exists.
        let swap = cgroup + "/memory.memsw.limit_in_bytes"
        if FileManager.default.fileExists(atPath: swap) { try? "\(limitBytes)".write(toFile: swap, atomically: false, encoding: .utf8) }
        try "\(getpid())".write(toFile: cgroup + "/cgroup.procs", atomically: false, encoding: .utf8)
    }

    /// After the worker exited: whether the kernel killed something in it for memory; the cgroup is removed.
    public static func finish(_ cgroup: String) -> Bool {
        var killed = false
        if let control = try? String(contentsOfFile: cgroup + "/memory.oom_control", encoding: .utf8) {
            killed = control.split(separator: "\n").contains { $0.hasPrefix("oom_kill ") && !$0.hasSuffix(" 0") }
        } else if let events = try? String(contentsOfFile: cgroup + "/memory.events", encoding: .utf8) {
            killed = events.split(separator: "\n").contains { $0.hasPrefix("oom_kill ") && !$0.hasSuffix(" 0") }
        }
        rmdir(cgroup)
        return killed
    }

    /// Removes the cgroups of workers that are gone (a daemon killed before it could clean up); a cgroup that still
    /// has processes (another daemon's worker) cannot be removed and stays.
    public static func removeEmpty(under parent: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for entry in entries where !entry.contains(".") {
            rmdir(parent + "/" + entry)
        }
    }
}
