import MossInference
import Testing

@Suite struct TensorJSONTests {
    @Test func parsesNumbersArraysAndCommaLists() throws {
        #expect(try TensorJSON.parse("3.5") == Tensor(scalar: 3.5))
        #expect(try TensorJSON.parse("1005,21, 78") == Tensor(shape: [3], floats: [1005, 21, 78]))
        #expect(try TensorJSON.parse(" [[1, 2e1, -3.25]] ") == Tensor(shape: [1, 3], floats: [1, 20, -3.25]))
        #expect(try TensorJSON.parse("[]") == Tensor(shape: [0], floats: []))
        // Doubles rounded to float32, as np.float32(951.1) does.
        #expect(try TensorJSON.parse("[951.1]").floats == [Float(951.1 as Double)])
    }

    @Test(arguments: ["[[1, 2], [3]]", "[1, 2", "1,,2", "[1 2]", "abc", "0x10", ""])
    func rejectsMalformedValues(_ text: String) {
        #expect(throws: InferenceError.self) { try TensorJSON.parse(text) }
    }

    @Test func formatsLikePythonsTolist() {
        let tensor = Tensor(
            shape: [1, 3],
            floats: [-0.015612147748470306, 4.067440986633301, 0.3393971025943756].map { Float($0) }
        )
        #expect(TensorJSON.format(tensor) == "[[-0.015612147748470306, 4.067440986633301, 0.3393971025943756]]")
        #expect(TensorJSON.format(Tensor(scalar: 1)) == "1.0")
        #expect(
            TensorJSON.format(["y": Tensor(shape: [2, 1], floats: [0.5, 0]), "a": Tensor(shape: [0], floats: [])])
                == #"{"a": [], "y": [[0.5], [0.0]]}"#
        )
    }
}
