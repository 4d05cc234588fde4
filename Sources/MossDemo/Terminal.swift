import Foundation

/// The demo's output, written at once (unbuffered) so lines and redraws appear when they happen, even in a pipe.
enum Terminal {
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
