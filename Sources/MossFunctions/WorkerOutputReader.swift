import MossLogging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Reads a worker's stdout and stderr pipe into its log as the bytes arrive, and closes the pipe at end of output.
///
/// A NIO pipe channel rather than a dispatch read source (or FileHandle.readabilityHandler, which is one): libdispatch
/// on Linux frees a read source's epoll registration when the source is cancelled on another thread, while its
/// manager thread may still be handling an event for it. The daemon died of that (SIGSEGV in
/// `_dispatch_event_loop_drain`) when workers exited together at shutdown.
enum WorkerOutputReader {
    /// Takes ownership of `descriptor`, the read end of the pipe: NIO closes it at end of output.
    static func start(descriptor: Int32, output: TimestampedLines, group: any EventLoopGroup) {
        NIOPipeBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(OutputHandler(output: output))
                }
            }
            .takingOwnershipOfDescriptor(input: descriptor)
            .whenFailure { _ in
                // Not registered: still ours to close. The worker then writes into a closed pipe, as to /dev/null.
                _ = close(descriptor)
                output.finish()
            }
    }

    private final class OutputHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private let output: TimestampedLines

        init(output: TimestampedLines) {
            self.output = output
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            if let chunk = bytes.readBytes(length: bytes.readableBytes) { output.feed(chunk) }
        }

        /// Every writer (the worker and whatever it started) has closed its end.
        func channelInactive(context: ChannelHandlerContext) {
            output.finish()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
