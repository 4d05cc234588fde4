import Foundation
import MossDeploy
import Testing

@Suite("Group files") struct GroupFileTests {
    static let yaml = """
        core:
          thingName: gw
        devices:
          - thingName: s
            certificate: certs/s.pem
            syncShadow: true
        functions:
          - id: repub
            name: repub
            runtime: python3.11
            handler: app.handler
            code: repub
            environment:
              variables: {B: "2", A: "1"}
            resourceAccessPolicies:
              - resourceId: m
        resources:
          - id: m
            name: m
            machineLearningModel:
              source: models/m.zip
              destinationPath: /ml/m/
        subscriptions:
          - id: r
            source: device:s
            subject: s/readings
            target: function:repub
        """

    static let json = """
        {"subscriptions": [{"target": "arn:aws:lambda:us-east-1:000000000000:function:repub:1", "subject": "s/readings",
                            "source": "arn:aws:iot:us-east-1:000000000000:thing/s", "id": "r"}],
         "resources": [{"name": "m", "id": "m",
                        "machineLearningModel": {"destinationPath": "/ml/m", "source": "file:/g/models/m.zip"}}],
         "functions": [{"resourceAccessPolicies": [{"permission": "ro", "resourceId": "m"}], "code": "/g/repub",
                        "environment": {"variables": {"A": "1", "B": "2"}}, "handler": "app.handler",
                        "runtime": "python3.11", "name": "repub", "id": "repub", "version": "1", "timeout": 3}],
         "devices": [{"syncShadow": true, "certificate": "/g/certs/s.pem", "thingName": "s"}],
         "core": {"thingName": "gw", "syncShadow": false}}
        """

    @Test func defaultsAreFilledInAndPathsAreAbsolute() throws {
        let group = try parsed(Self.yaml)
        let function = try #require(group.functions.first)
        #expect(function.version == "1")
        #expect(function.timeout == 3)
        #expect(function.pinned == false)
        #expect(function.memorySize == nil)
        #expect(function.encodingType == .json)
        #expect(function.isolationMode == .greengrassContainer)
        #expect(function.runAs == nil)
        #expect(function.accessSysfs == false)
        #expect(function.code == "/g/repub")
        #expect(function.resourceAccessPolicies == [.init(resourceId: "m", permission: .readOnly)])
        #expect(group.core == .init(thingName: "gw", syncShadow: false, namedShadows: [], syncDirection: .both))
        #expect(group.devices.first?.certificate == .file("/g/certs/s.pem"))
        #expect(group.resources.first?.destinationPath == "/ml/m")
        #expect(
            group.resources.first?.kind
                == .machineLearningModel(.init(source: .file("/g/models/m.zip"), destinationPath: "/ml/m"))
        )
        #expect(
            group.logging == [
                .init(component: .greengrassSystem, level: .info, space: 128, type: .fileSystem),
                .init(component: .lambda, level: .info, space: 128, type: .fileSystem),
            ]
        )
        #expect(
            group.subscriptions == [
                Subscription(id: "r", source: .device("s"), subject: "s/readings", target: .function("repub"))
            ]
        )
    }

    @Test func groupDefaultExecutionAppliesToFunctionsWithoutTheirOwn() throws {
        let group = try parsed(
            """
            core: {thingName: gw}
            defaultConfig:
              execution: {isolationMode: NoContainer, runAs: {uid: 1000, gid: 1000}}
            functions:
              - {id: a, name: a, runtime: executable, executable: run, code: bin}
              - {id: b, name: b, runtime: executable, executable: run, code: bin, isolationMode: GreengrassContainer}
            """
        )
        #expect(group.defaultExecution == .init(isolationMode: .noContainer, runAs: .init(uid: 1000, gid: 1000)))
        #expect(group.functions.map(\.isolationMode) == [.noContainer, .greengrassContainer])
        #expect(group.functions.map(\.runAs) == [.init(uid: 1000, gid: 1000), .init(uid: 1000, gid: 1000)])
        #expect(group.functions.map(\.encodingType) == [.binary, .binary])
    }

    @Test func acceptedSpellingsAreNormalised() throws {
        let group = try parsed(
            """
            core: {thingName: gw}
            devices:
              - thingName: s
                certificate: "sha256:\(String(repeating: "AB:", count: 31))AB"
            resources:
              - {id: a, name: a, machineLearningModel: {source: 's3://my-greengrass-models/a.tar.gz', destinationPath: /m/a}}
              - {id: b, name: b, machineLearningModel: {source: 'arn:aws:sagemaker:eu-west-1:123456789012:training-job/rain-1', destinationPath: /m/b}}
              - {id: c, name: c, machineLearningModel: {source: 'https://models.example.com/c.zip', destinationPath: /m/c, sha256: \(String(repeating: "F", count: 64))}}
              - {id: d, name: d, machineLearningModel: {source: 'file:///g/models/m.zip', destinationPath: /m/d}}
              - {id: e, name: e, localDevice: {sourcePath: /dev/ttyS0/, groupOwnerSetting: {autoAddGroupOwner: true}}}
              - {id: f, name: f, localVolume: {sourcePath: /dev/shm, destinationPath: /shm}}
            """
        )
        #expect(group.devices[0].certificate == .fingerprint(String(repeating: "ab", count: 32)))
        let sources = group.resources.compactMap { resource -> String? in
            guard case .machineLearningModel(let model) = resource.kind else { return nil }
            return model.source.description
        }
        #expect(
            sources == [
                "s3://my-greengrass-models/a.tar.gz", "arn:aws:sagemaker:eu-west-1:123456789012:training-job/rain-1",
                "https://models.example.com/c.zip", "file:/g/models/m.zip",
            ]
        )
        #expect(group.resources[4].destinationPath == "/dev/ttyS0")
        if case .machineLearningModel(let model) = group.resources[2].kind {
            #expect(model.sha256 == String(repeating: "f", count: 64))
        }
    }

    @Test func jsonAndYAMLFormsParseToTheSameGroup() throws {
        let fromYAML = try parsed(Self.yaml)
        let fromJSON = try parsed(Self.json)
        #expect(fromYAML == fromJSON)
        #expect(fromYAML.digest == fromJSON.digest)
    }

    @Test func canonicalJSONIsStableAcrossKeyOrderAndFormatting() throws {
        let a = try parsed(Self.yaml)
        let b = try parsed(Self.json)
        #expect(a.canonicalJSON() == b.canonicalJSON())
        #expect(a.digest.count == 64)
        #expect(a.digest.allSatisfy { "0123456789abcdef".contains($0) })
        // List order carries no meaning for uniquely keyed items.
        var reordered = a
        reordered.devices.append(.init(thingName: "t"))
        var other = a
        other.devices.insert(.init(thingName: "t"), at: 0)
        #expect(reordered.digest == other.digest)
    }

    @Test(arguments: [
        "timeout: 3": "timeout: 4",
        "subject: s/readings": "subject: s/other",
        "syncShadow: true": "syncShadow: false",
        "{B: \"2\", A: \"1\"}": "{B: \"2\", A: \"2\"}",
        "destinationPath: /ml/m/": "destinationPath: /ml/n",
    ])
    func digestChangesWhenSomethingMeaningfulChanges(from: String, to: String) throws {
        let base = Self.yaml.replacingOccurrences(of: "code: repub", with: "code: repub\n    timeout: 3")
        let changed = base.replacingOccurrences(of: from, with: to)
        #expect(changed != base)
        #expect(try parsed(base).digest != parsed(changed).digest)
    }

    @Test func canonicalJSONIsItselfAValidGroupFile() throws {
        let group = try parsed(Self.yaml)
        let text = String(decoding: group.canonicalJSON(), as: UTF8.self)
        #expect(try parsed(text).canonicalJSON() == group.canonicalJSON())
        #expect(try JSONDecoder().decode(GroupDefinition.self, from: Data(group.canonicalJSON())) == parsed(text))
        #expect(text.contains("\"source\":\"device:s\""))
        #expect(text.contains("\"defaultConfig\"") == false)
    }

    @Test func functionARNs() throws {
        let group = try parsed(Self.yaml)
        let context = GroupContext(region: "eu-west-1", account: "123456789012")
        #expect(
            group.functionARN(group.functions[0], context: context)
                == "arn:aws:lambda:eu-west-1:123456789012:function:repub:1"
        )
        #expect(group.v1Name(of: .device("s"), context: context) == "arn:aws:iot:eu-west-1:123456789012:thing/s")
        #expect(group.v1Name(of: .shadow, context: context) == "GGShadowService")
        #expect(Endpoint.function("repub").description == "function:repub")
    }

    @Test func aFileWithManyErrorsReportsThemAllInFileOrder() throws {
        let yaml = """
            core:
              thingName: gw
              colour: green
            devices:
              - thingName: s
              - thingName: s
            functions:
              - id: f
                name: f
                runtime: python2.7
                code: nowhere
                timeout: 9000
                resourceAccessPolicies: [{resourceId: x}]
            subscriptions:
              - {id: r, source: device:t, subject: 'a/#/b', target: function:f}
              - {id: r, source: cloud, subject: a, target: cloud}
            logging:
              - {component: System}
            """
        let error = try #require(throws: GroupValidationError.self) {
            try GroupFile.parse(yaml, file: "g.yaml", context: testContext)
        }
        #expect(
            error.diagnostics.map(\.description) == [
                "g.yaml:3:3: error: core.colour: unknown key; allowed here: thingName, syncShadow, namedShadows, syncDirection",
                "g.yaml:6:16: error: devices[1].thingName: \"s\" is already the thing name of devices[0].thingName (line 5); thing names must be unique",
                "g.yaml:10:14: error: functions[0].runtime: \"python2.7\" is not allowed; expected one of python3.7, python3.8, python3.9, python3.10, python3.11, python3.12, python3.13, executable",
                "g.yaml:11:11: error: functions[0].code: \"nowhere\" does not exist (looked for /g/nowhere); expected a directory or a .zip file",
                "g.yaml:12:14: error: functions[0].timeout: 9000 is out of range; expected 1…900 seconds",
                "g.yaml:13:43: error: functions[0].resourceAccessPolicies[0].resourceId: \"x\" names no resource of this group; resources: none are defined",
                "g.yaml:15:21: error: subscriptions[0].source: \"device:t\" names no device of this group; devices: s",
                "g.yaml:15:40: error: subscriptions[0].subject: \"a/#/b\" is not a valid topic or topic filter: '#' must be the last level and '+'/'#' must fill a whole level",
                "g.yaml:16:10: error: subscriptions[1].id: \"r\" is already the subscription id of subscriptions[0].id (line 15); subscription ids must be unique",
                "g.yaml:16:48: error: subscriptions[1].target: a subscription from cloud to cloud is not allowed; one end must be in the group",
                "g.yaml:18:17: error: logging[0].component: \"System\" is not allowed; expected one of GreengrassSystem, Lambda",
            ]
        )
        #expect(error.errors.count == 11)
        #expect(error.description.split(separator: "\n").count == 11)
    }

    @Test func loadReportsAnUnreadableFile() {
        let error = #expect(throws: GroupValidationError.self) {
            try GroupFile.load(path: "/nonexistent/group.yaml", context: GroupContext())
        }
        #expect(error?.diagnostics.count == 1)
        #expect(
            error?.diagnostics.first?.description.hasPrefix("/nonexistent/group.yaml: error: cannot read the file")
                == true
        )
    }
}
