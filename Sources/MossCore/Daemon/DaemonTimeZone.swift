import Foundation

/// The daemon's default time zone is UTC, as its log lines are.
///
/// Hummingbird's date cache (admin API, function IPC server) builds a Gregorian calendar in the default time zone
/// before switching it to GMT; resolving the machine's zone name loads ICU's time zone code and data, ~1.8 MB of
/// resident memory the daemon never needs (docs/benchmarks.md, broker memory). Nothing in the daemon shows local
/// time through Foundation; `moss demo`'s clock uses the C library's `localtime_r`.
enum DaemonTimeZone {
    static func useUTC() {
        if let utc = TimeZone(secondsFromGMT: 0) { NSTimeZone.default = utc }
    }
}
