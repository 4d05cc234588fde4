import Synchronization

/// A wake-up for one waiting task at a time: ``signal()`` wakes the task in ``wait()``, or, when none waits, makes
/// the next ``wait()`` return at once. Signals do not count; several before a wait wake it once. A second task that
/// waits while one is waiting displaces it (the first returns, as if signalled): callers loop and re-check.
///
/// Unlike an `AsyncStream`, a new task may wait after the previous one was cancelled (each cloud connection runs its
/// own sender task against the same spool).
final class AsyncSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns after the next signal (or at once if one came since the last wait), or when the task is cancelled.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let (resumeNow, displaced): (Bool, CheckedContinuation<Void, Never>?) = state.withLock { state in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return (true, nil)
                    }
                    defer { state.waiter = continuation }
                    return (false, state.waiter)
                }
                displaced?.resume()
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
