/// V1's quotas and ranges, in one place so that the reader, the rules and docs/group.md agree.
enum GroupLimits {
    static let maximumDevices = 2_500
    static let maximumSubscriptions = 10_000
    static let maximumResourceAccessPolicies = 10
    static let timeout = 1...900
    /// KB: 2 MB to 2 GiB.
    static let memorySize = 2_048...2_097_152
    /// KB of local log files per logger (1 GiB).
    static let maximumLogSpace = 1_048_576
}
