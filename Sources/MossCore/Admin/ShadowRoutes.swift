import HTTPTypes
import Hummingbird
import MossShadow
import NIOCore

/// The shadow service on the admin API, with the paths and reply shapes of AWS IoT's data-plane REST API
/// under `/v1` (so the CLI, tests and tools built for the REST API all see the same documents):
///
/// - `GET|POST|DELETE /v1/things/{thing}/shadow[?name=N]`: get, update, delete;
/// - `GET /v1/api/things/shadow/ListNamedShadowsForThing/{thing}[?pageSize=&nextToken=]`;
/// - `GET /v1/shadows[?thing=T]`: every shadow with its version, for `moss shadow list`.
///
/// Errors are AWS's: the status is the shadow error code, the body `{"message": …}`, and `x-amzn-ErrorType`
/// names the exception. As with AWS's REST API, refusals are not published on MQTT.
struct ShadowRoutes: AdminRoutes {
    /// AWS IoT's MQTT message limit; a larger body could never have been an accepted update.
    static let maximumBodyBytes = 128 * 1024

    let service: ShadowService

    func register(on v1: RouterGroup<BasicRequestContext>) {
        v1.get("things/:thing/shadow") { request, context in
            try await perform(.get, request: request, context: context)
        }
        v1.post("things/:thing/shadow") { request, context in
            try await perform(.update, request: request, context: context)
        }
        v1.delete("things/:thing/shadow") { request, context in
            try await perform(.delete, request: request, context: context)
        }
        // AWS answers other verbs on a shadow with 405 MethodNotAllowedException, not 404.
        for method in [HTTPRequest.Method.put, .patch] {
            v1.on("things/:thing/shadow", method: method) { _, _ in
                Self.error(ShadowError(code: 405, message: "Method Not Allowed: use GET, POST or DELETE"))
            }
        }
        v1.get("api/things/shadow/ListNamedShadowsForThing/:thing") { request, context in
            let thing = context.parameters.get("thing") ?? ""
            if let problem = ShadowKey(thing: thing).validate(service.engine.limits) { return Self.error(problem) }
            let query = request.uri.queryParameters
            var pageSize = 25
            if let text = query.get("pageSize") {
                guard let size = Int(text), (1...100).contains(size) else {
                    return Self.error(ShadowError(code: 400, message: "pageSize must be an integer in 1...100"))
                }
                pageSize = size
            }
            let page = try await service.listNamedShadows(
                thing: thing,
                pageSize: pageSize,
                nextToken: query.get("nextToken").map { String($0) }
            )
            var writer = JSONWriter()
            writer.raw("{\"results\":[")
            for (index, name) in page.names.enumerated() {
                if index > 0 { writer.raw(",") }
                writer.write(string: name)
            }
            writer.raw("]")
            if let token = page.nextToken {
                writer.raw(",\"nextToken\":")
                writer.write(string: token)
            }
            writer.raw(",\"timestamp\":")
            writer.write(integer: service.now())
            writer.raw("}")
            return Self.json(writer.bytes)
        }
        v1.get("shadows") { request, _ in
            let thing = request.uri.queryParameters.get("thing").map { String($0) }
            let shadows = try await service.listShadows(thing: thing)
            var writer = JSONWriter()
            writer.raw("{\"shadows\":[")
            for (index, shadow) in shadows.enumerated() {
                if index > 0 { writer.raw(",") }
                writer.raw("{\"thing\":")
                writer.write(string: shadow.thing)
                writer.raw(",\"name\":")
                if let name = shadow.name { writer.write(string: name) } else { writer.raw("null") }
                writer.raw(",\"version\":")
                writer.write(integer: shadow.version)
                writer.raw("}")
            }
            writer.raw("]}")
            return Self.json(writer.bytes)
        }
    }

    private func perform(_ operation: ShadowOperation, request: Request, context: BasicRequestContext) async throws
        -> Response
    {
        let thing = context.parameters.get("thing") ?? ""
        let name = request.uri.queryParameters.get("name").map { String($0) }
        var payload: [UInt8] = []
        if operation == .update {
            do {
                let body = try await request.body.collect(upTo: Self.maximumBodyBytes)
                payload = Array(body.readableBytesView)
            } catch {
                return Self.error(.payloadTooLarge)
            }
        }
        let outcome = await service.perform(operation, ShadowKey(thing: thing, name: name), payload: payload, origin: .api)
        switch outcome {
        case .accepted(let reply, _, _, _): return Self.json(reply)
        case .rejected(let error, _): return Self.error(error)
        }
    }

    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    static func error(_ error: ShadowError) -> Response {
        var writer = JSONWriter()
        writer.raw("{\"message\":")
        writer.write(string: error.message)
        writer.raw("}")
        var response = json(writer.bytes, status: HTTPResponse.Status(code: error.code))
        response.headers[HTTPField.Name("x-amzn-ErrorType")!] = error.errorType
        return response
    }
}
