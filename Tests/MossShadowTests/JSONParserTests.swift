import Testing

@testable import MossShadow

@Suite struct JSONParserTests {
    @Test func roundTripsKeepKeyOrderAndNumberText() throws {
        let text = #"{"b":1.10,"a":[true,false,null,"x\"y\\z\u00e9\n"],"big":12345678901234567890,"e":-2.5E+3}"#
        let value = try JSONParser.parse(text)
        let written = String(decoding: JSONWriter.serialize(value), as: UTF8.self)
        #expect(written == #"{"b":1.10,"a":[true,false,null,"x\"y\\zé\n"],"big":12345678901234567890,"e":-2.5E+3}"#)
    }

    @Test(arguments: [
        "", " ", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "01", "1.", ".5", "-", "1e", "tru", "nul", "NaN", "Infinity",
        "{\"a\":1}x", "\"\u{01}\"", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "'a'", "{a:1}", "[1 2]",
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82]] {
            #expect(throws: JSONParseError.notUTF8) { try JSONParser.parse(bytes) }
        }
    }

    @Test func refusesNestingDeeperThanItsLimitWithoutRecursingFurther() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.tooDeep) { try JSONParser.parse(deep) }
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func lastDuplicateKeyWins() throws {
        let value = try JSONParser.parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(String(decoding: JSONWriter.serialize(value), as: UTF8.self) == #"{"a":3,"b":2}"#)
    }

    @Test func numbersCompareByValue() throws {
        #expect(try JSONParser.parse("1") == JSONParser.parse("1.0"))
        #expect(try JSONParser.parse("1") != JSONParser.parse("true"))
        #expect(try JSONParser.parse("9007199254740993") != JSONParser.parse("9007199254740992"))
        #expect(try JSONParser.parse("-0") == JSONParser.parse("0"))
        #expect(try JSONParser.parse(#"{"a":1,"b":2}"#) == JSONParser.parse(#"{"b":2,"a":1}"#))
        #expect(try JSONParser.parse("[1,2]") != JSONParser.parse("[2,1]"))
    }
}
