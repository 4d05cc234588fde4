import Testing

@testable import MossFunctionKit

@Suite("the worker's environment") struct EnvironmentTests {
    let complete = [
        "MY_FUNCTION_ARN": "arn:aws:lambda:us-east-1:000000000000:function:repub:1",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "token",
        "GG_DAEMON_PORT": "40123",
        "ENCODING_TYPE": "binary",
        "ROUTER_FUNCTION_ARN": "arn:aws:lambda:::function:GGRouter",
        "SHADOW_FUNCTION_ARN": "arn:aws:lambda:::function:GGShadowService",
        "MOSS_FUNCTION_TIMEOUT_MS": "2500",
        "AWS_IOT_THING_NAME": "gateway",
        "AWS_REGION": "us-east-1",
    ]

    @Test func whatTheCoreSetsIsRead() throws {
        let environment = try FunctionEnvironment(complete)
        #expect(environment.functionARN.name == "repub" && environment.functionARN.qualifier == "1")
        #expect(environment.token == "token" && environment.port == 40123 && environment.encoding == .binary)
        #expect(environment.timeout == .milliseconds(2500))
        #expect(environment.routerARN == "arn:aws:lambda:::function:GGRouter")
        #expect(environment.shadowServiceARN == "arn:aws:lambda:::function:GGShadowService")
        #expect(environment.coreThingName == "gateway" && environment.region == "us-east-1")
    }

    @Test func absentOptionalVariablesTakeV1sDefaults() throws {
        var variables = complete
        for name in ["GG_DAEMON_PORT", "ROUTER_FUNCTION_ARN", "SHADOW_FUNCTION_ARN", "MOSS_FUNCTION_TIMEOUT_MS"] {
            variables[name] = nil
        }
        let environment = try FunctionEnvironment(variables)
        #expect(environment.port == 8000 && environment.timeout == .seconds(3))
        #expect(environment.routerARN == "arn:aws:lambda:::function:GGRouter")
        #expect(environment.shadowServiceARN == "arn:aws:lambda:::function:GGShadowService")
        variables["MOSS_FUNCTION_TIMEOUT_MS"] = "soon"
        #expect(try FunctionEnvironment(variables).timeout == .seconds(3))
    }

    @Test(
        arguments: [
            ("MY_FUNCTION_ARN", nil, "MY_FUNCTION_ARN is not set"),
            ("MY_FUNCTION_ARN", "repub", "MY_FUNCTION_ARN is not a function ARN: repub"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "", "AWS_CONTAINER_AUTHORIZATION_TOKEN is not set"),
            ("GG_DAEMON_PORT", "http", "GG_DAEMON_PORT is not a port number: http"),
            ("GG_DAEMON_PORT", "70000", "GG_DAEMON_PORT is not a port number: 70000"),
            ("ENCODING_TYPE", nil, "ENCODING_TYPE must be \"json\" or \"binary\", not \"\""),
            ("ENCODING_TYPE", "cbor", "ENCODING_TYPE must be \"json\" or \"binary\", not \"cbor\""),
        ] as [(String, String?, String)]
    )
    func aMissingOrWrongVariableIsNamed(variable: String, value: String?, message: String) {
        var variables = complete
        variables[variable] = value
        #expect(throws: FunctionEnvironmentError.self) { try FunctionEnvironment(variables) }
        do {
            _ = try FunctionEnvironment(variables)
        } catch {
            #expect(error.variable == variable)
            #expect(error.description == message)
        }
    }
}
