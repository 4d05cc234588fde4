import Foundation
import MossFunctions
import Testing

@testable import MossCore

/// The IPC inference service on a small SavedModel fixture (MossInferenceTests' mlp: input x of shape (2, 6)).
@Suite struct InferenceServiceTests {
    static let caller = "arn:aws:lambda:us-east-1:000000000000:function:predictor:1"
    static var model: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MossInferenceTests/Fixtures/mlp/saved_model").path
    }
    static var expected: [String: Any] {
        let url = URL(fileURLWithPath: model).deletingLastPathComponent().appendingPathComponent("expected.json")
        return (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
    }

    private func service() async -> InferenceService {
        let service = InferenceService()
        await service.setAttachments([Self.caller: ["image-model": Self.model]])
        return service
    }

    private func context(_ contentType: String = "application/json") -> String {
        let custom = ["custom": ["Content-Type": contentType, "Accept": "application/json"]]
        return (try? JSONSerialization.data(withJSONObject: custom))?.base64EncodedString() ?? ""
    }

    private func request(_ inputs: Any) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: ["inputs": inputs])) ?? Data())
    }

    @Test func runsTheAttachedModelAndAnswersInV1sShape() async throws {
        let inputs = try #require(Self.expected["inputs"] as? [String: Any])
        let result = await service().invoke(
            caller: Self.caller, service: "tensorflow-image-model", body: request(inputs), clientContext: context()
        )
        #expect(result.functionError == "")
        let reply = try #require(try JSONSerialization.jsonObject(with: Data(result.payload)) as? [String: Any])
        #expect(reply["Content-Type"] as? String == "application/json")
        let body = try #require(reply["Body"] as? String)
        let outputs = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: [[Double]]])
        let expected = try #require(Self.expected["outputs"] as? [String: [[Double]]])
        for (name, rows) in expected {
            let got = try #require(outputs[name])
            #expect(zip(got.joined(), rows.joined()).allSatisfy { abs($0 - $1) <= 1e-5 }, "output \(name)")
        }
    }

    @Test func refusesWhatTheCallerGotWrongAsHandled() async throws {
        let service = await service()
        let wrongShape = await service.invoke(
            caller: Self.caller, service: "tensorflow-image-model", body: request(["x": [1.0, 2.0]]), clientContext: context()
        )
        #expect(wrongShape.functionError == "Handled")
        #expect(String(decoding: wrongShape.payload, as: UTF8.self).contains("image-model"))
        let notJSON = await service.invoke(
            caller: Self.caller, service: "tensorflow-image-model", body: Array("{}".utf8), clientContext: context()
        )
        #expect(notJSON.functionError == "Handled")
        let jpeg = await service.invoke(
            caller: Self.caller, service: "tensorflow-image-model", body: [0xFF, 0xD8], clientContext: context("image/jpeg")
        )
        #expect(jpeg.functionError == "Handled" && String(decoding: jpeg.payload, as: UTF8.self).contains("is not supported"))
    }

    @Test func aServiceNotAttachedToTheCallerIsUnknown() async throws {
        let service = await service()
        let other = await service.invoke(
            caller: "arn:aws:lambda:us-east-1:000000000000:function:other:1", service: "tensorflow-image-model",
            body: request([:]), clientContext: context()
        )
        #expect(other.functionError == "Unhandled")
        #expect(String(decoding: other.payload, as: UTF8.self).contains("attached: none"))
        #expect(IPCServer.inferenceService(of: "arn:aws:lambda:us-east-1:aws:function:GG-ML-INF-a-b") == "a-b")
        #expect(IPCServer.inferenceService(of: "arn:aws:lambda:us-east-1:000000000000:function:GG-ML-INF-a-b") == nil)
    }
}
