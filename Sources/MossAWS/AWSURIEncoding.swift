/// Percent-encoding as SigV4 and the AWS serializers do it: UTF-8 bytes, uppercase hex, and only the RFC 3986
/// unreserved characters (`A-Z a-z 0-9 - _ . ~`) left as they are.
public enum AWSURIEncoding {
    /// Encodes `string`, leaving `/` alone when `keepingSlashes` (an S3 key in a path) and encoding it otherwise
    /// (a path segment such as a thing name, or a query name or value).
    public static func encode(_ string: some StringProtocol, keepingSlashes: Bool = false) -> String {
        encode(bytes: string.utf8, keepingSlashes: keepingSlashes)
    }

    static func encode(bytes: some Sequence<UInt8>, keepingSlashes: Bool) -> String {
        var result: [UInt8] = []
        for byte in bytes {
            if isUnreserved(byte) || (keepingSlashes && byte == UInt8(ascii: "/")) {
                result.append(byte)
            } else {
                result.append(UInt8(ascii: "%"))
                result.append(hexDigits[Int(byte >> 4)])
                result.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Decodes `%XX` sequences; anything that is not a valid escape is kept as it is (as Python's `unquote` does).
    public static func decode(_ string: some StringProtocol) -> String {
        let bytes = Array(string.utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                result.append(high << 4 | low)
                index += 3
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
