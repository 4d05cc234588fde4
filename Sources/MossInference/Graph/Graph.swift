/// A model (one signature of it) lowered to the IR: values are numbered; nodes are in topological order.
struct Graph: Sendable {
    struct Input: Sendable {
        var name: String
        var value: Int
        var elementType: ElementType
        /// The declared shape; nil dimensions are unknown, and nil means unknown rank.
        var shape: [Int?]?
    }

    struct Output: Sendable {
        var name: String
        var value: Int
    }

    struct Node: Sendable {
        /// The node's name in the source model, for error messages.
        var name: String
        var op: Operator
        /// Value numbers; nil for an omitted optional input.
        var inputs: [Int?]
        var outputs: [Int]
    }

    /// A name per value, for error messages.
    private(set) var valueNames: [String] = []
    var constants: [Int: Tensor] = [:]
    var nodes: [Node] = []
    var inputs: [Input] = []
    var outputs: [Output] = []
    /// Whether a rank-n declared input also accepts shape (1, …) of rank n + 1, as TensorFlow's signatures do.
    var acceptsLeadingUnitDimension = false

    mutating func addValue(named name: String) -> Int {
        valueNames.append(name)
        return valueNames.count - 1
    }

    mutating func addConstant(_ tensor: Tensor, named name: String) -> Int {
        let value = addValue(named: name)
        constants[value] = tensor
        return value
    }

    var valueCount: Int { valueNames.count }

    /// Drops nodes whose outputs no graph output depends on.
    mutating func removeDeadNodes() {
        var live = Set(outputs.map(\.value))
        var kept: [Node] = []
        for node in nodes.reversed() where node.outputs.contains(where: live.contains) {
            kept.append(node)
            for case let input? in node.inputs { live.insert(input) }
        }
        nodes = kept.reversed()
        constants = constants.filter { live.contains($0.key) }
    }
}
