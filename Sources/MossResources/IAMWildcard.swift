/// IAM's wildcard matching for actions and resource ARNs: `*` is any run of characters (none included), `?` one
/// character, everything else literal and case-sensitive. (Actions are matched case-insensitively by the caller.)
enum IAMWildcard {
    static func matches(_ pattern: String, _ value: String) -> Bool {
        let pattern = Array(pattern.unicodeScalars)
        let value = Array(value.unicodeScalars)
        // Iterative glob with one backtrack point: linear for any pattern, no recursion.
        var p = 0
        var v = 0
        var star: Int?
        var resume = 0
        while v < value.count {
            if p < pattern.count, pattern[p] == "?" || pattern[p] == value[v] {
                p += 1
                v += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p
                resume = v
                p += 1
            } else if let star {
                p = star + 1
                resume += 1
                v = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}
