import MossShadow
import ServiceLifecycle

/// Runs the shadow service's writer in the daemon's ServiceGroup; on graceful shutdown it stops taking
/// requests and returns once those already queued are committed and answered.
struct ShadowServiceRunner: Service {
    let service: ShadowService

    func run() async throws {
        await withGracefulShutdownHandler {
            await service.run()
        } onGracefulShutdown: {
            service.finish()
        }
    }
}
