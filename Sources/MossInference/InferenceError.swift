/// Why a model could not be loaded or run. The message names the model part, the node or the input at fault.
public struct InferenceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; callers that only report errors can ignore it.
    public enum Kind: String, Sendable, Hashable {
        /// The files are missing, truncated, corrupt or not a model Moss reads.
        case invalidModel
        /// The model uses an operator (or an operator variant) Moss does not implement.
        case unsupportedOperator
        /// No signature of that name.
        case unknownSignature
        /// An input is unknown, missing, of the wrong type or of the wrong shape.
        case invalidInput
        /// An operator cannot run on the shapes or values it was given.
        case invalidOperation
        /// An optional back end could not be loaded.
        case backendUnavailable
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
