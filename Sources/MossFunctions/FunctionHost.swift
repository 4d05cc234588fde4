import Foundation
public import Logging
import MossLogging

/// Runs the deployed functions: a work queue per function, workers that long-poll it over the IPC, results for
/// callers that wait, timeouts, and restarts. Pinned functions get one worker, started at deployment and restarted
/// with backoff; on-demand functions get workers when work arrives, reused while idle, within the core-wide limit.
public actor FunctionHost {
    /// Why an invocation was refused before it was queued.
    public enum InvokeError: Error, Sendable, Equatable, CustomStringConvertible {
        case unknownFunction(String)
        case queueFull(limit: Int)

        public var description: String {
            switch self {
            case .unknownFunction(let arn): "No function \(arn) is deployed"
            case .queueFull(let limit): "The work queue is full (\(limit) invocations waiting); the invocation was refused"
            }
        }
    }

    private struct Worker {
        enum State { case starting, idle, busy(String) }
        let token: String
        let arn: String
        var process: WorkerProcess?
        var state: State
        var waiting: CheckedContinuation<Invocation?, Never>?
    }

    private struct Function {
        var spec: FunctionSpec
        var queue: [Invocation] = []
        var workers: Set<String> = []
        var restartBackoff: Duration = .milliseconds(250)
        /// Workers in a row that exited before asking for work (a broken handler module, a missing interpreter).
        var failedStarts = 0
    }

    /// Workers that die before their first poll this many times in a row fail the function's queued invocations.
    static let maximumFailedStarts = 3

    private let limits: FunctionHostLimits
    private let logger: Logger
    /// The `moss` executable, which sets containers up (`moss launch-function`), and where their files go.
    private let launcher: String?
    private let containerDirectory: String?
    /// Filled in by ``start(ipcPort:)``: workers need the IPC port in their environment.
    private var ipcPort = 0
    private var baseEnvironment: [String: String] = [:]
    private var functions: [String: Function] = [:]
    private var workers: [String: Worker] = [:]
    private var waiters: [String: CheckedContinuation<InvocationResult, Never>] = [:]
    private var finished: [String: InvocationResult] = [:]
    private var timeouts: [String: Task<Void, Never>] = [:]
    /// Event invocations in flight: nobody reads their results, which are only logged when they are errors.
    private var events: Set<String> = []
    private var queued = 0
    private var stopping = false
    /// Where workers' memory cgroups go; nil when none is writable (then limits are not enforced, and said so).
    private let memoryCgroupParent: String? = MemoryCgroup.parentDirectory()
    private var warnedUnlimited: Set<String> = []
    private var initializedWorkers: Set<String> = []
    private var initializationFailed: Set<String> = []
    /// Workers told to stop that may still be running; shutdown waits for them (and kills the stragglers).
    private var stopped: [WorkerProcess] = []
    /// Each deployed function's log file (by path), written through the daemon so its size stays bounded.
    private var logs: [String: RotatingLogFile] = [:]
    private(set) var refusedInvocations = 0

    public init(
        limits: FunctionHostLimits = FunctionHostLimits(),
        launcher: String? = nil,
        containerDirectory: String? = nil,
        logger: Logger
    ) {
        self.limits = limits
        self.launcher = launcher
        self.containerDirectory = containerDirectory
        self.logger = logger
    }

    /// The IPC server is listening on `ipcPort`; `environment` is what every worker inherits (PATH, LANG, …).
    public func start(ipcPort: Int, environment: [String: String]) {
        self.ipcPort = ipcPort
        self.baseEnvironment = environment
        if let parent = memoryCgroupParent { MemoryCgroup.removeEmpty(under: parent) }
    }

    // MARK: Deployment

    /// Makes `specs` the deployed functions: removed or changed ones lose their workers (their queued
    /// invocations are answered `Unhandled`), pinned ones start.
    public func install(_ specs: [FunctionSpec]) {
        let wanted = Dictionary(uniqueKeysWithValues: specs.map { ($0.arn, $0) })
        for (arn, function) in functions where wanted[arn] != function.spec {
            retire(arn, reason: "the function was redeployed or removed")
        }
        updateLogs(for: specs)
        for spec in specs where functions[spec.arn] == nil {
            functions[spec.arn] = Function(spec: spec)
            if spec.pinned { spawn(spec.arn) }
        }
    }

    /// Opens the log files of new functions, applies the group's bound to all, and closes those no longer deployed.
    private func updateLogs(for specs: [FunctionSpec]) {
        var wanted: [String: Int] = [:]
        for spec in specs { wanted[spec.logFile] = spec.logLimitBytes }
        for (path, file) in logs where wanted[path] == nil {
            file.close()
            logs[path] = nil
        }
        for (path, limit) in wanted {
            if let file = logs[path] {
                file.limitBytes = limit
                continue
            }
            do {
                let directory = (path as NSString).deletingLastPathComponent
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                logs[path] = try RotatingLogFile(path: path, limitBytes: limit)
            } catch {
                logger.error("Cannot open a function's log file; its output is lost", metadata: ["log.path": "\(path)", "error": "\(error)"])
            }
        }
    }

    /// Stops every worker (graceful shutdown): SIGTERM, then SIGKILL for those still running after `grace`, so no
    /// worker outlives the daemon.
    public func stopAll(grace: Duration = .seconds(2)) async {
        stopping = true
        for arn in Array(functions.keys) { retire(arn, reason: "Moss is stopping") }
        // Not cleared: a second call (the server's own stop after the graceful-shutdown handler's) waits as well.
        stopped.removeAll { !$0.isRunning }
        let processes = stopped
        let deadline = ContinuousClock.now + grace
        while processes.contains(where: \.isRunning), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for process in processes where process.isRunning { process.kill() }
    }

    public func isDeployed(_ arn: String) -> Bool { functions[arn] != nil }

    // MARK: Invocations

    /// Queues an invocation and returns its id; a worker picks it up (one is started if none is idle).
    public func invoke(
        _ arn: String,
        kind: String,
        payload: [UInt8],
        clientContext: String
    ) throws(InvokeError) -> String {
        guard functions[arn] != nil else { throw .unknownFunction(arn) }
        guard queued < limits.maximumQueuedInvocations else {
            refusedInvocations += 1
            logger.error("Work queue full; invocation refused", metadata: ["function.arn": "\(arn)"])
            throw .queueFull(limit: limits.maximumQueuedInvocations)
        }
        let invocation = Invocation(
            id: UUID().uuidString.lowercased(),
            functionARN: arn,
            kind: Invocation.Kind(rawValue: kind) ?? .requestResponse,
            payload: payload,
            clientContext: clientContext
        )
        if invocation.kind == .event { events.insert(invocation.id) }
        dispatch(invocation)
        return invocation.id
    }

    /// An Event invocation of the deployed function called `name` (a route's target), in one call to the host: the
    /// router's delivery is on every warm invocation's path. Nil when no such function is deployed.
    @discardableResult
    public func invokeEvent(functionNamed name: String, payload: [UInt8], clientContext: String) -> String? {
        guard let arn = functions.values.first(where: { $0.spec.name == name })?.spec.arn else { return nil }
        return try? invoke(arn, kind: Invocation.Kind.event.rawValue, payload: payload, clientContext: clientContext)
    }

    /// Records a result computed by the core itself (the shadow service, a refused invocation) for `GET` to read.
    public func complete(_ id: String, with result: InvocationResult) {
        deliver(id, result)
    }

    /// A result id for a call the core answered at once.
    public func completedInvocation(_ result: InvocationResult) -> String {
        let id = UUID().uuidString.lowercased()
        deliver(id, result)
        return id
    }

    /// Waits for the result of invocation `id` (the caller's blocking GET).
    public func result(of id: String) async -> InvocationResult {
        if let done = finished.removeValue(forKey: id) { return done }
        return await withCheckedContinuation { waiters[id] = $0 }
    }

    // MARK: The worker side of the IPC

    /// The function a worker token belongs to.
    public func function(ofToken token: String) -> String? { workers[token]?.arn }

    /// A worker's long poll: the next invocation of its function, or nil when the worker is being stopped.
    func nextWork(token: String) async -> Invocation? {
        guard var worker = workers[token], var function = functions[worker.arn] else { return nil }
        function.failedStarts = 0
        if !function.queue.isEmpty {
            let invocation = function.queue.removeFirst()
            queued -= 1
            functions[worker.arn] = function
            worker.state = .busy(invocation.id)
            workers[token] = worker
            armTimeout(invocation, token: token, seconds: function.spec.timeoutSeconds)
            return invocation
        }
        worker.state = .idle
        functions[worker.arn] = function
        return await withCheckedContinuation { continuation in
            worker.waiting = continuation
            workers[token] = worker
        }
    }

    /// A worker posted the result (or handled error) of `id`.
    func postResult(token: String, invocationID: String, result: InvocationResult) {
        guard var worker = workers[token], case .busy(let current) = worker.state, current == invocationID else {
            logger.warning("A worker posted a result for an invocation it does not hold", metadata: ["invocation.id": "\(invocationID)"])
            return
        }
        worker.state = .starting  // until it polls again
        workers[token] = worker
        timeouts.removeValue(forKey: invocationID)?.cancel()
        // A worker that completes work is healthy: the next crash starts the backoff again from its floor.
        functions[worker.arn]?.restartBackoff = .milliseconds(250)
        deliver(invocationID, result)
    }

    /// One worker as V1's health API (1.11) reports it.
    public struct WorkerHealth: Sendable, Hashable {
        public var functionARN: String
        public var workerID: String
        public var processID: Int32
        /// V1's states: Working, Waiting, Starting, Initialized, FailedInitialization, NotStarted.
        public var state: String
    }

    /// The workers of `arns` (all deployed functions when nil), a function without workers as NotStarted; and the
    /// ARNs that name no deployed function.
    public func health(of arns: [String]? = nil) -> (workers: [WorkerHealth], invalid: [String]) {
        let wanted = arns ?? functions.keys.sorted()
        var result: [WorkerHealth] = []
        var invalid: [String] = []
        for arn in wanted {
            guard let function = functions[arn] else {
                invalid.append(arn)
                continue
            }
            if function.workers.isEmpty {
                result.append(WorkerHealth(functionARN: arn, workerID: "", processID: 0, state: "NotStarted"))
            }
            for token in function.workers.sorted() {
                guard let worker = workers[token] else { continue }
                let state: String
                switch worker.state {
                case .busy: state = "Working"
                case .idle: state = "Waiting"
                case .starting: state = initializedWorkers.contains(token) ? "Initialized" : "Starting"
                }
                result.append(
                    WorkerHealth(
                        functionARN: arn,
                        workerID: String(token.prefix(16)),
                        processID: worker.process?.processIdentifier ?? 0,
                        state: initializationFailed.contains(token) ? "FailedInitialization" : state
                    )
                )
            }
        }
        return (result, invalid)
    }

    func initialized(token: String, success: Bool, response: String) {
        if success { initializedWorkers.insert(token) } else { initializationFailed.insert(token) }
        guard let worker = workers[token] else { return }
        if success {
            logger.debug("Function initialized", metadata: ["function.arn": "\(worker.arn)"])
        } else {
            logger.error("Function failed to initialize", metadata: ["function.arn": "\(worker.arn)", "error": "\(response)"])
        }
    }

    // MARK: Workers

    private func dispatch(_ invocation: Invocation) {
        let arn = invocation.functionARN
        // An idle worker waiting in its long poll takes it at once.
        if let token = functions[arn]?.workers.first(where: { workers[$0]?.waiting != nil }),
            var worker = workers[token], let waiting = worker.waiting
        {
            worker.waiting = nil
            worker.state = .busy(invocation.id)
            workers[token] = worker
            armTimeout(invocation, token: token, seconds: functions[arn]?.spec.timeoutSeconds ?? 3)
            waiting.resume(returning: invocation)
            return
        }
        functions[arn]?.queue.append(invocation)
        queued += 1
        guard let function = functions[arn], !function.spec.pinned else { return }
        // On demand: one more worker when the queue outgrows the ones starting, within the core-wide limit.
        let starting = function.workers.filter { if case .starting = workers[$0]?.state { true } else { false } }.count
        let onDemand = functions.values.filter { !$0.spec.pinned }.reduce(0) { $0 + $1.workers.count }
        if function.queue.count > starting && onDemand < limits.maximumConcurrentWorkers {
            spawn(arn)
        }
    }

    private func spawn(_ arn: String) {
        guard !stopping, let function = functions[arn] else { return }
        let token = Self.makeToken()
        var environment = baseEnvironment
        environment.merge(function.spec.environment) { _, new in new }
        environment.merge([
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
            "MY_FUNCTION_ARN": arn,
            "GG_DAEMON_PORT": "\(ipcPort)",
            "ROUTER_FUNCTION_ARN": "arn:aws:lambda:::function:GGRouter",
            "SHADOW_FUNCTION_ARN": "arn:aws:lambda:::function:GGShadowService",
            "SECRETS_MANAGER_FUNCTION_ARN": "arn:aws:lambda:::function:GGSecretManager:1",
            "GGC_MAX_INTERFACE_VERSION": "1.5",
            "ENCODING_TYPE": function.spec.encodingType,
        ]) { _, new in new }
        workers[token] = Worker(token: token, arn: arn, process: nil, state: .starting, waiting: nil)
        functions[arn]?.workers.insert(token)
        do {
            var command = function.spec.command
            var workingDirectory = function.spec.workingDirectory
            var processEnvironment = environment
            var containerFiles: [String] = []
            var memoryCgroup: String?
            // Every worker starts through the launcher when there is one: it joins the memory cgroup and, for
            // GreengrassContainer functions, builds the container, before it executes the worker.
            if let launcher, let containerDirectory {
                var container =
                    function.spec.container
                    ?? ContainerSpec(
                        root: "",
                        mounts: [],
                        accessSysfs: true,
                        workingDirectory: function.spec.workingDirectory,
                        command: function.spec.command,
                        environment: [:]
                    )
                if function.spec.container == nil { container.isolated = false }
                // The spec carries the worker's token, so it is written to the private data directory, per worker.
                container.environment.merge(environment) { own, _ in own }
                container.environment.merge(["AWS_CONTAINER_AUTHORIZATION_TOKEN": token]) { _, new in new }
                container.root = containerDirectory + "/\(token)"
                if let user = function.spec.user {
                    container.user = user
                    // Its own home, not the daemon's (which it may not even be able to read).
                    container.environment["HOME"] = user.home
                }
                if let limit = function.spec.memoryLimitBytes {
                    if let parent = memoryCgroupParent {
                        memoryCgroup = parent + "/\(function.spec.name)-\(token.prefix(12))"
                        container.memoryLimitBytes = limit
                        container.memoryCgroup = memoryCgroup
                    } else if warnedUnlimited.insert(arn).inserted {
                        logger.warning(
                            "No writable memory cgroup: the function runs without its memory limit",
                            metadata: ["function.arn": "\(arn)", "function.memory_limit_bytes": "\(limit)"]
                        )
                    }
                }
                let specFile = containerDirectory + "/\(token).json"
                try FileManager.default.createDirectory(atPath: containerDirectory, withIntermediateDirectories: true)
                let encoded = try JSONEncoder().encode(container)
                guard FileManager.default.createFile(atPath: specFile, contents: encoded, attributes: [.posixPermissions: 0o600]) else {
                    throw LaunchSetupError(description: "cannot write \(specFile)")
                }
                containerFiles = [specFile, container.root]
                command = [launcher, "launch-function", "--spec", specFile]
                workingDirectory = containerDirectory
                processEnvironment = ["PATH": environment["PATH"] ?? "/usr/bin:/bin"]
            } else if function.spec.container != nil {
                throw LaunchSetupError(description: "this host cannot start containers (no launcher configured)")
            }
            let cleanup = containerFiles
            let cgroup = memoryCgroup
            let process = try WorkerProcess(
                command: command,
                workingDirectory: workingDirectory,
                environment: processEnvironment,
                output: logs[function.spec.logFile].map { TimestampedLines(sink: $0) }
            ) { [weak self] status in
                for file in cleanup { try? FileManager.default.removeItem(atPath: file) }
                // Read (and removed) here, so a worker the host already forgot leaves no cgroup behind.
                let killedForMemory = cgroup.map(MemoryCgroup.finish) ?? false
                guard let self else { return }
                Task { await self.workerExited(token: token, status: status, killedForMemory: killedForMemory) }
            }
            workers[token]?.process = process
            logger.info(
                "Worker started",
                metadata: ["function.arn": "\(arn)", "worker.pid": "\(process.processIdentifier)", "function.pinned": "\(function.spec.pinned)"]
            )
        } catch {
            logger.error("Could not start a worker", metadata: ["function.arn": "\(arn)", "error": "\(error)"])
            workers[token] = nil
            functions[arn]?.workers.remove(token)
            failQueued(arn, reason: "the worker could not start: \(error)")
        }
    }

    private func workerExited(token: String, status: Int32, killedForMemory: Bool) {
        initializedWorkers.remove(token)
        initializationFailed.remove(token)
        guard let worker = workers.removeValue(forKey: token) else { return }
        functions[worker.arn]?.workers.remove(token)
        worker.waiting?.resume(returning: nil)
        if killedForMemory {
            logger.error(
                "Worker killed for memory: the function exceeded its memorySize",
                metadata: ["function.arn": "\(worker.arn)", "function.memory_limit_bytes": "\(functions[worker.arn]?.spec.memoryLimitBytes ?? 0)"]
            )
        }
        if case .busy(let id) = worker.state {
            timeouts.removeValue(forKey: id)?.cancel()
            let why = killedForMemory ? "was killed for exceeding its memory limit" : "exited with status \(status)"
            deliver(id, .unhandled("The function's worker \(why) during the invocation"))
        }
        guard !stopping, var function = functions[worker.arn] else { return }
        logger.warning(
            "Worker exited",
            metadata: ["function.arn": "\(worker.arn)", "worker.status": "\(status)", "function.log": "\(function.spec.logFile)"]
        )
        if case .starting = worker.state, worker.process != nil {
            function.failedStarts += 1
            if function.failedStarts >= Self.maximumFailedStarts {
                function.failedStarts = 0
                functions[worker.arn] = function
                failQueued(
                    worker.arn,
                    reason: "The function's worker exited \(Self.maximumFailedStarts) times before taking work (status \(status)); "
                        + "see \(function.spec.logFile)"
                )
            } else {
                functions[worker.arn] = function
            }
        }
        guard function.spec.pinned || !(functions[worker.arn]?.queue.isEmpty ?? true) else { return }
        // Back after a backoff that doubles up to the limit (about 10 s), so a crashing function cannot spin.
        let delay = function.restartBackoff
        functions[worker.arn]?.restartBackoff = min(delay * 2, limits.maximumRestartBackoff)
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.respawn(worker.arn)
        }
    }

    private func respawn(_ arn: String) {
        guard let function = functions[arn], function.workers.isEmpty, function.spec.pinned || !function.queue.isEmpty
        else { return }
        spawn(arn)
    }

    private func armTimeout(_ invocation: Invocation, token: String, seconds: Int) {
        timeouts[invocation.id] = Task { [weak self] in
            guard (try? await Task.sleep(for: .seconds(seconds))) != nil else { return }
            await self?.timedOut(invocation, token: token, seconds: seconds)
        }
    }

    private func timedOut(_ invocation: Invocation, token: String, seconds: Int) {
        guard let worker = workers[token], case .busy(let id) = worker.state, id == invocation.id else { return }
        logger.warning("Invocation timed out; stopping its worker", metadata: ["function.arn": "\(worker.arn)", "invocation.id": "\(id)"])
        timeouts[id] = nil
        workers[token]?.state = .starting
        deliver(id, .unhandled("Task timed out after \(seconds) seconds"))
        worker.process?.stop()
        if let process = worker.process { stopped.append(process) }
        stopped.removeAll { !$0.isRunning }
    }

    private func retire(_ arn: String, reason: String) {
        guard let function = functions.removeValue(forKey: arn) else { return }
        queued -= function.queue.count
        for invocation in function.queue { deliver(invocation.id, .unhandled(reason)) }
        for token in function.workers {
            guard let worker = workers.removeValue(forKey: token) else { continue }
            worker.waiting?.resume(returning: nil)
            if case .busy(let id) = worker.state { deliver(id, .unhandled(reason)) }
            worker.process?.stop()
            if let process = worker.process { stopped.append(process) }
        }
    }

    private func failQueued(_ arn: String, reason: String) {
        guard let queue = functions[arn]?.queue, functions[arn]?.workers.isEmpty == true else { return }
        functions[arn]?.queue = []
        queued -= queue.count
        for invocation in queue { deliver(invocation.id, .unhandled(reason)) }
    }

    private func deliver(_ id: String, _ result: InvocationResult) {
        if events.remove(id) != nil {
            if !result.functionError.isEmpty {
                logger.warning(
                    "Event invocation failed",
                    metadata: [
                        "invocation.id": "\(id)", "function.error": "\(result.functionError)",
                        "function.result": "\(String(decoding: result.payload.prefix(512), as: UTF8.self))",
                    ]
                )
            }
            return
        }
        if let waiter = waiters.removeValue(forKey: id) {
            waiter.resume(returning: result)
        } else {
            // Kept for the caller's GET, which normally follows at once; a caller that never asks must not grow
            // the table without bound.
            if finished.count > 4096 { finished.removeAll() }
            finished[id] = result
        }
    }

    struct LaunchSetupError: Error, CustomStringConvertible {
        var description: String
    }

    private static func makeToken() -> String {
        (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined()
    }
}
