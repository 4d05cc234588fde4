import NIOConcurrencyHelpers

/// Live connections, for the connection limit, `moss status` and shutdown.
final class ConnectionRegistry: Sendable {
    private struct State {
        var handlers: [ObjectIdentifier: MQTTConnectionHandler] = [:]
        var clients: [ObjectIdentifier: ConnectedClient] = [:]
        var sockets = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Claims a slot for a new socket; false when `limit` sockets are open already.
    func reserveSocket(limit: Int) -> Bool {
        state.withLockedValue { state in
            guard state.sockets < limit else { return false }
            state.sockets += 1
            return true
        }
    }

    func add(_ handler: MQTTConnectionHandler) {
        state.withLockedValue { $0.handlers[ObjectIdentifier(handler)] = handler }
    }

    func connected(_ handler: MQTTConnectionHandler, as client: ConnectedClient) {
        state.withLockedValue { $0.clients[ObjectIdentifier(handler)] = client }
    }

    /// Releases the socket's slot and forgets the handler.
    func remove(_ handler: MQTTConnectionHandler) {
        state.withLockedValue { state in
            state.handlers.removeValue(forKey: ObjectIdentifier(handler))
            state.clients.removeValue(forKey: ObjectIdentifier(handler))
            state.sockets -= 1
        }
    }

    func releaseSocket() {
        state.withLockedValue { $0.sockets -= 1 }
    }

    var handlers: [MQTTConnectionHandler] { state.withLockedValue { Array($0.handlers.values) } }
    var clients: [ConnectedClient] { state.withLockedValue { Array($0.clients.values) } }
    var socketCount: Int { state.withLockedValue { $0.sockets } }
}
