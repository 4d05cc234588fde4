/// The one allocation of a plan: every buffer is an offset into it.
final class Arena {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: Swift.max(count, 1) * MemoryLayout<Float>.stride,
            alignment: 64
        )
        base = raw.bindMemory(to: Float.self, capacity: Swift.max(count, 1))
        base.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }
}

/// Lays out buffers in an arena, reusing the space of buffers that are dead (best fit, coalescing free blocks).
struct ArenaAllocator {
    private var free: [(offset: Int, count: Int)] = []
    private(set) var highWater = 0

    /// Sizes are rounded up to 16 floats, so every buffer starts on a 64-byte boundary.
    private static func rounded(_ count: Int) -> Int { Swift.max(16, (count + 15) / 16 * 16) }

    mutating func allocate(_ count: Int) -> Int {
        let size = Self.rounded(count)
        var best: Int?
        for (index, block) in free.enumerated() where block.count >= size {
            if best == nil || block.count < free[best!].count { best = index }
        }
        if let best {
            let block = free[best]
            if block.count == size {
                free.remove(at: best)
            } else {
                free[best] = (block.offset + size, block.count - size)
            }
            return block.offset
        }
        // Grow from the top, absorbing a free block that ends there.
        if let last = free.last, last.offset + last.count == highWater {
            free.removeLast()
            highWater = last.offset + size
            return last.offset
        }
        defer { highWater += size }
        return highWater
    }

    mutating func release(offset: Int, count: Int) {
        let size = Self.rounded(count)
        let index = free.firstIndex { $0.offset > offset } ?? free.endIndex
        free.insert((offset, size), at: index)
        if index + 1 < free.count, free[index].offset + free[index].count == free[index + 1].offset {
            free[index].count += free[index + 1].count
            free.remove(at: index + 1)
        }
        if index > 0, free[index - 1].offset + free[index - 1].count == free[index].offset {
            free[index - 1].count += free[index].count
            free.remove(at: index)
        }
    }
}
