/// The element types a tensor can hold. Arithmetic runs in float32; the integer and boolean types carry
/// shapes, axes and paddings, and pass through signatures that declare them.
public enum ElementType: String, Sendable, Hashable, CustomStringConvertible {
    case float32
    case int32
    case int64
    case bool

    public var description: String { rawValue }
}
