import Foundation

/// Reads a machine learning model's `source`: `s3://BUCKET/KEY.tar.gz|.zip`, a SageMaker training-job ARN,
/// an `https://` URL, or a local path (`file:PATH` or a plain path). Local paths come back as written.
enum ModelSourceSyntax {
    static let expected =
        "expected s3://BUCKET/KEY.tar.gz or .zip, arn:aws:sagemaker:REGION:ACCOUNT:training-job/NAME, "
        + "https://…, or a local path (file:PATH)"

    static func parse(_ text: String) -> Result<GroupDefinition.ModelSource, SyntaxProblem> {
        if text.hasPrefix("s3://") { return s3(text) }
        if text.hasPrefix("arn:") { return sageMaker(text) }
        if text.hasPrefix("https://") {
            guard let url = URL(string: text), let host = url.host, !host.isEmpty else {
                return .failure(SyntaxProblem(message: "\(quoted(text)) is not a valid https URL"))
            }
            return .success(.https(text))
        }
        if text.hasPrefix("http://") {
            return .failure(SyntaxProblem(message: "\(quoted(text)): plain http is not accepted; use https"))
        }
        if text.hasPrefix("file://") {
            let path = String(text.dropFirst(7))
            guard path.hasPrefix("/") else {
                return .failure(
                    SyntaxProblem(
                        message: "\(quoted(text)): file:// needs an absolute path; use file:PATH for a relative one"
                    )
                )
            }
            return .success(.file(path))
        }
        if text.hasPrefix("file:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return .failure(SyntaxProblem(message: "\(quoted(text)) names no path")) }
            return .success(.file(path))
        }
        if text.contains("://") {
            return .failure(SyntaxProblem(message: "\(quoted(text)) has an unknown scheme; \(expected)"))
        }
        return .success(.file(text))
    }

    private static func s3(_ text: String) -> Result<GroupDefinition.ModelSource, SyntaxProblem> {
        let rest = text.dropFirst(5)
        guard let slash = rest.firstIndex(of: "/") else {
            return .failure(SyntaxProblem(message: "\(quoted(text)) has no object key; expected s3://BUCKET/KEY"))
        }
        let bucket = String(rest[..<slash])
        let key = String(rest[rest.index(after: slash)...])
        if bucket.contains(".") {
            return .failure(
                SyntaxProblem(message: "\(quoted(text)): bucket names with dots are not supported (as in V1)")
            )
        }
        let bytes = Array(bucket.utf8)
        let isLowerAlnum: (UInt8) -> Bool = { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) }
        guard (3...63).contains(bytes.count), bytes.allSatisfy({ isLowerAlnum($0) || $0 == UInt8(ascii: "-") }),
            isLowerAlnum(bytes[0]), isLowerAlnum(bytes[bytes.count - 1])
        else {
            return .failure(
                SyntaxProblem(
                    message: "\(quoted(bucket)) is not a valid bucket name; expected 3…63 characters of a-z 0-9 -, "
                        + "starting and ending with a letter or digit"
                )
            )
        }
        guard key.hasSuffix(".tar.gz") || key.hasSuffix(".zip"), key.count > 4 else {
            return .failure(
                SyntaxProblem(message: "\(quoted(text)): a model package must be a .tar.gz or .zip object (as in V1)")
            )
        }
        return .success(.s3(bucket: bucket, key: key))
    }

    private static func sageMaker(_ text: String) -> Result<GroupDefinition.ModelSource, SyntaxProblem> {
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        let wrong = SyntaxProblem(
            message: "\(quoted(text)) is not a SageMaker training-job ARN; "
                + "expected arn:aws:sagemaker:REGION:ACCOUNT:training-job/NAME"
        )
        guard parts.count == 6, parts[0] == "arn", parts[1] == "aws", parts[2] == "sagemaker", !parts[3].isEmpty,
            isDigits(parts[4], count: 12), parts[5].hasPrefix("training-job/")
        else { return .failure(wrong) }
        let name = Array(parts[5].dropFirst(13).utf8)
        let isAlnum: (UInt8) -> Bool = {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
        }
        // SageMaker job names: 1…63 of a-z A-Z 0-9 and '-', not starting or ending with '-'.
        guard (1...63).contains(name.count), name.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") }),
            isAlnum(name[0]), isAlnum(name[name.count - 1])
        else { return .failure(wrong) }
        return .success(.sageMakerTrainingJob(arn: text))
    }

    private static func isDigits(_ text: String, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
