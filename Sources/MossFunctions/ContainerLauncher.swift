import Foundation

#if canImport(Glibc)
import CMossLauncher
import Glibc

/// Builds a worker's container and executes the worker in it (`moss launch-function`). Runs in a fresh process,
/// before anything else: every step is a plain system call, and a failure ends the process with a message on
/// stderr (which is the function's log) naming the step.
public enum ContainerLauncher {
    /// Host top-level directories the container never sees as they are: it gets its own /tmp, and /sys only with
    /// accessSysfs.
    static let replaced: Set<String> = ["tmp", "sys", "proc", "dev", "lost+found"]

    public static func run(_ spec: ContainerSpec) -> Never {
        resetSignals()
        do {
            if let limit = spec.memoryLimitBytes, let cgroup = spec.memoryCgroup {
                try MemoryCgroup.join(cgroup, limitBytes: limit)
            }
            if spec.isolated {
                try enterNamespace()
                try assembleRoot(spec)
                try check(chroot(spec.root), "chroot into \(spec.root)")
            }
            // Last, because everything above needs root; the working directory is then entered as the user.
            if let user = spec.user { try switchUser(to: user) }
            try check(chdir(spec.workingDirectory), "chdir to \(spec.workingDirectory)")
        } catch {
            fail("\(error)")
        }
        var arguments = spec.command.map { strdup($0) } + [nil]
        var environment = spec.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        let program = resolve(spec.command.first ?? "", path: spec.environment["PATH"] ?? "/usr/bin:/bin")
        execve(program, &arguments, &environment)
        fail("cannot execute \(program): \(String(cString: strerror(errno)))")
    }

    /// The daemon ignores and blocks SIGTERM and SIGINT to handle them itself, and both survive exec: a worker would
    /// never see the SIGTERM that asks it to stop. Restore the defaults and an empty mask.
    private static func resetSignals() {
        for signal in [SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2] {
            Glibc.signal(signal, SIG_DFL)
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
    }

    private static func enterNamespace() throws {
        try check(moss_unshare_mount_namespace(), "unshare(CLONE_NEWNS) (mount namespaces unavailable?)")
        // Nothing mounted from here on may leak back to the host.
        try check(mount("none", "/", nil, UInt(MS_REC | MS_PRIVATE), nil), "make / private")
    }

    private static func assembleRoot(_ spec: ContainerSpec) throws {
        let root = spec.root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try check(mount("tmpfs", root, "tmpfs", 0, "mode=0755"), "mount a tmpfs on \(root)")
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/") where !replaced.contains(entry) {
            let host = "/" + entry
            let inside = root + host
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: host) {
                try FileManager.default.createSymbolicLink(atPath: inside, withDestinationPath: target)
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: host, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            try bind(host, inside, readOnly: false)
        }
        try bind("/dev", root + "/dev", readOnly: false)
        try bind("/proc", root + "/proc", readOnly: false)
        if spec.accessSysfs { try bind("/sys", root + "/sys", readOnly: true) }
        try FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
        try check(mount("tmpfs", root + "/tmp", "tmpfs", 0, "mode=1777"), "mount the container's /tmp")
        for item in spec.mounts {
            let inside = root + item.destination
            if !FileManager.default.fileExists(atPath: inside) {
                // Only inside the container's own tmpfs: a missing path under a host directory would be created on the host.
                guard !hostBacked(item.destination, spec: spec) else {
                    throw LaunchError("\(item.destination) does not exist on the host, and Moss will not create it there")
                }
                try FileManager.default.createDirectory(atPath: inside, withIntermediateDirectories: true)
            }
            try bind(item.source, inside, readOnly: item.readOnly)
        }
    }

    /// Groups first: once the uid is not root, the groups can no longer change.
    private static func switchUser(to user: FunctionUser) throws {
        let groups = user.supplementaryGroups.map { gid_t($0) }
        try groups.withUnsafeBufferPointer { buffer in
            try check(setgroups(buffer.count, buffer.baseAddress), "set the supplementary groups \(user.supplementaryGroups)")
        }
        try check(setgid(user.gid), "setgid(\(user.gid))")
        try check(setuid(user.uid), "setuid(\(user.uid))")
    }

    /// Whether `destination` lies under a host directory bound into the container (rather than in its tmpfs).
    private static func hostBacked(_ destination: String, spec: ContainerSpec) -> Bool {
        let first = destination.split(separator: "/").first.map(String.init) ?? ""
        if first == "tmp" { return false }
        if first == "sys" { return spec.accessSysfs }
        return FileManager.default.fileExists(atPath: "/" + first) && !replaced.contains(first)
    }

    private static func bind(_ source: String, _ target: String, readOnly: Bool) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw LaunchError("\(source) does not exist")
        }
        if !FileManager.default.fileExists(atPath: target) {
            if isDirectory.boolValue {
                try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            } else {
                try FileManager.default.createDirectory(
                    atPath: (target as NSString).deletingLastPathComponent,
                    withIntermediateDirectories: true
                )
                _ = FileManager.default.createFile(atPath: target, contents: nil)
            }
        }
        try check(mount(source, target, nil, UInt(MS_BIND | MS_REC), nil), "bind \(source) at \(target)")
        if readOnly {
            try check(
                mount(nil, target, nil, UInt(MS_REMOUNT | MS_BIND | MS_RDONLY | MS_REC), nil),
                "make \(target) read-only"
            )
        }
    }

    private static func resolve(_ program: String, path: String) -> String {
        guard !program.contains("/") else { return program }
        for directory in path.split(separator: ":") where access("\(directory)/\(program)", X_OK) == 0 {
            return "\(directory)/\(program)"
        }
        return program
    }

    private static func check(_ result: Int32, _ step: String) throws {
        guard result == 0 else { throw LaunchError("\(step): \(String(cString: strerror(errno)))") }
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("moss launch-function: \(message)\n".utf8))
        exit(126)
    }

    struct LaunchError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
#endif
