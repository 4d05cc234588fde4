import MossDeploy
import Testing

/// One case per validation rule: a small file breaking it and exactly what Moss says, where.
struct RuleCase: Sendable, CustomTestStringConvertible {
    let rule: String
    let yaml: String
    let expected: [String]
    var testDescription: String { rule }
}

/// A python function that validates, for cases that break something next to it.
private let fn = """
      - id: repub
        name: repub
        runtime: python3.11
        handler: app.handler
        code: repub
    """

let fileRules: [RuleCase] = [
    RuleCase(
        rule: "not YAML",
        yaml: "core: [thingName\n",
        expected: [
            "g.yaml:2:1: error: not valid YAML or JSON: did not find expected ',' or ']' (while parsing a flow sequence)"
        ]
    ),
    RuleCase(
        rule: "duplicate key",
        yaml: "core:\n  thingName: a\n  thingName: b\n",
        expected: [
            "g.yaml:2:3: error: duplicate key \"thingName\" in a mapping"
        ]
    ),
    RuleCase(
        rule: "empty file",
        yaml: "# nothing\n",
        expected: [
            "g.yaml: error: the file is empty; a group needs at least core: {thingName: …}"
        ]
    ),
    RuleCase(
        rule: "top level is not a mapping",
        yaml: "- core\n",
        expected: [
            "g.yaml:1:1: error: expected a mapping with keys $schema, core, devices, functions, subscriptions, resources, logging, defaultConfig, pipelines, got a list"
        ]
    ),
    RuleCase(
        rule: "unknown key",
        yaml: "core:\n  thingName: gw\n  syncShadows: true\n",
        expected: [
            "g.yaml:3:3: error: core.syncShadows: unknown key; allowed here: thingName, syncShadow, namedShadows, syncDirection"
        ]
    ),
    RuleCase(
        rule: "missing required key",
        yaml: "core:\n  syncShadow: false\n",
        expected: [
            "g.yaml:2:3: error: core.thingName: is required"
        ]
    ),
    RuleCase(
        rule: "missing core",
        yaml: "devices: []\n",
        expected: [
            "g.yaml:1:1: error: core: is required"
        ]
    ),
    RuleCase(
        rule: "wrong type: list expected",
        yaml: "core: {thingName: gw}\ndevices: {thingName: s}\n",
        expected: [
            "g.yaml:2:10: error: devices: expected a list of devices, got a mapping"
        ]
    ),
    RuleCase(
        rule: "wrong type: boolean expected",
        yaml: "core:\n  thingName: gw\n  syncShadow: yes\n",
        expected: [
            "g.yaml:3:15: error: core.syncShadow: expected true or false, got \"yes\""
        ]
    ),
    RuleCase(
        rule: "wrong type: string expected",
        yaml: "core:\n  thingName: [a]\n",
        expected: [
            "g.yaml:2:14: error: core.thingName: expected a string, got a list"
        ]
    ),
    RuleCase(
        rule: "enum value",
        yaml: "core:\n  thingName: gw\n  syncDirection: up\n",
        expected: [
            "g.yaml:3:18: error: core.syncDirection: \"up\" is not allowed; expected one of both, deviceToCloud, cloudToDevice"
        ]
    ),
]

let thingRules: [RuleCase] = [
    RuleCase(
        rule: "thing name pattern",
        yaml: "core:\n  thingName: my gateway\n",
        expected: [
            "g.yaml:2:14: error: core.thingName: \"my gateway\" is not a valid thing name; expected 1…128 characters of a-z A-Z 0-9 : _ -"
        ]
    ),
    RuleCase(
        rule: "thing name length",
        yaml: "core:\n  thingName: \(String(repeating: "a", count: 129))\n",
        expected: [
            "g.yaml:2:14: error: core.thingName: \"\(String(repeating: "a", count: 129))\" is not a valid thing name; expected 1…128 characters of a-z A-Z 0-9 : _ -"
        ]
    ),
    RuleCase(
        rule: "duplicate thing name (core and device)",
        yaml: "core:\n  thingName: gw\ndevices:\n  - thingName: gw\n",
        expected: [
            "g.yaml:4:16: error: devices[0].thingName: \"gw\" is already the thing name of core.thingName (line 2); thing names must be unique"
        ]
    ),
    RuleCase(
        rule: "duplicate thing name (devices)",
        yaml: "core: {thingName: gw}\ndevices:\n  - thingName: s\n  - thingName: s\n",
        expected: [
            "g.yaml:4:16: error: devices[1].thingName: \"s\" is already the thing name of devices[0].thingName (line 3); thing names must be unique"
        ]
    ),
    RuleCase(
        rule: "certificate file missing",
        yaml: "core: {thingName: gw}\ndevices:\n  - thingName: s\n    certificate: certs/x.pem\n",
        expected: [
            "g.yaml:4:18: error: devices[0].certificate: \"certs/x.pem\" does not exist (looked for /g/certs/x.pem); expected a PEM file or sha256:FINGERPRINT"
        ]
    ),
    RuleCase(
        rule: "certificate fingerprint",
        yaml: "core: {thingName: gw}\ndevices:\n  - thingName: s\n    certificate: sha256:abc\n",
        expected: [
            "g.yaml:4:18: error: devices[0].certificate: \"sha256:abc\" is not a SHA-256 fingerprint; expected sha256: and 64 hex digits"
        ]
    ),
    RuleCase(
        rule: "certificate shared by two devices",
        yaml:
            "core: {thingName: gw}\ndevices:\n  - {thingName: s, certificate: certs/s.pem}\n  - {thingName: t, certificate: /g/certs/s.pem}\n",
        expected: [
            "g.yaml:4:33: error: devices[1].certificate: \"/g/certs/s.pem\" is already the certificate of devices[0].certificate (line 3); certificates must be unique"
        ]
    ),
    RuleCase(
        rule: "named shadow listed twice",
        yaml: "core:\n  thingName: gw\n  namedShadows: [a, a]\n",
        expected: [
            "g.yaml:3:21: error: core.namedShadows[1]: \"a\" is listed twice",
        ]
    ),
    RuleCase(
        rule: "more than 2500 devices",
        yaml: "core: {thingName: gw}\ndevices:\n" + (0...2500).map { "  - thingName: d\($0)\n" }.joined(),
        expected: [
            "g.yaml:3:3: error: devices: 2501 devices; a group has at most 2500 (V1's quota)"
        ]
    ),
]

/// `core`, then a `functions:` list with `fn` followed by `body` (lines from 7 on).
private func withFunction(_ body: String) -> String {
    "core: {thingName: gw}\nfunctions:\n\(fn)\n\(body)"
}

let functionRules: [RuleCase] = [
    RuleCase(
        rule: "function name pattern",
        yaml:
            "core: {thingName: gw}\nfunctions:\n  - {id: f, name: 'a:b', runtime: python3.11, handler: app.handler, code: repub}\n",
        expected: [
            "g.yaml:3:19: error: functions[0].name: \"a:b\" is not a valid function name; expected 1…64 characters of a-z A-Z 0-9 _ -"
        ]
    ),
    RuleCase(
        rule: "function id pattern",
        yaml:
            "core: {thingName: gw}\nfunctions:\n  - {id: 'f/1', name: f, runtime: python3.11, handler: app.handler, code: repub}\n",
        expected: [
            "g.yaml:3:10: error: functions[0].id: \"f/1\" is not a valid function id; expected 1…128 characters of a-z A-Z 0-9 : _ -"
        ]
    ),
    RuleCase(
        rule: "$LATEST refused",
        yaml: withFunction("    version: $LATEST\n"),
        expected: [
            "g.yaml:8:14: error: functions[0].version: \"$LATEST\" is not allowed (as in V1); expected a version number or an alias"
        ]
    ),
    RuleCase(
        rule: "version starts at 1",
        yaml: withFunction("    version: 0\n"),
        expected: [
            "g.yaml:8:14: error: functions[0].version: \"0\" is not a version; versions start at 1"
        ]
    ),
    RuleCase(
        rule: "runtime",
        yaml: "core: {thingName: gw}\nfunctions:\n  - id: f\n    name: f\n    runtime: python2.7\n    code: repub\n",
        expected: [
            "g.yaml:5:14: error: functions[0].runtime: \"python2.7\" is not allowed; expected one of python3.7, python3.8, python3.9, python3.10, python3.11, python3.12, python3.13, executable"
        ]
    ),
    RuleCase(
        rule: "python needs a handler",
        yaml: "core: {thingName: gw}\nfunctions:\n  - id: f\n    name: f\n    runtime: python3.8\n    code: repub\n",
        expected: [
            "g.yaml:3:5: error: functions[0].handler: is required for the python3.8 runtime (module.function, e.g. lambda_function.function_handler)"
        ]
    ),
    RuleCase(
        rule: "handler shape",
        yaml:
            "core: {thingName: gw}\nfunctions:\n  - {id: f, name: f, runtime: python3.11, handler: handler, code: repub}\n",
        expected: [
            "g.yaml:3:52: error: functions[0].handler: \"handler\" is not a handler; expected module.function, e.g. lambda_function.function_handler"
        ]
    ),
    RuleCase(
        rule: "handler module exists",
        yaml:
            "core: {thingName: gw}\nfunctions:\n  - {id: f, name: f, runtime: python3.11, handler: main.handler, code: repub}\n",
        expected: [
            "g.yaml:3:52: error: functions[0].handler: module of \"main.handler\" not found: neither /g/repub/main.py nor /g/repub/main/__init__.py exists"
        ]
    ),
    RuleCase(
        rule: "executable is not for python",
        yaml: withFunction("    executable: run\n"),
        expected: [
            "g.yaml:8:17: error: functions[0].executable: is for the executable runtime; a python3.11 function names its handler in handler"
        ]
    ),
    RuleCase(
        rule: "executable found in code",
        yaml:
            "core: {thingName: gw}\nfunctions:\n  - {id: f, name: f, runtime: executable, executable: walk, code: bin}\n",
        expected: [
            "g.yaml:3:55: error: functions[0].executable: \"walk\" not found in the code directory (looked for /g/bin/walk)"
        ]
    ),
    RuleCase(
        rule: "executables take binary only",
        yaml:
            "core: {thingName: gw}\nfunctions:\n  - {id: f, name: f, runtime: executable, executable: run, code: bin, encodingType: json}\n",
        expected: [
            "g.yaml:3:85: error: functions[0].encodingType: executables take binary events only (as in V1); expected binary"
        ]
    ),
    RuleCase(
        rule: "code exists",
        yaml:
            "core: {thingName: gw}\nfunctions:\n  - {id: f, name: f, runtime: python3.11, handler: app.handler, code: nowhere}\n",
        expected: [
            "g.yaml:3:71: error: functions[0].code: \"nowhere\" does not exist (looked for /g/nowhere); expected a directory or a .zip file"
        ]
    ),
    RuleCase(
        rule: "timeout range",
        yaml: withFunction("    timeout: 9000\n"),
        expected: [
            "g.yaml:8:14: error: functions[0].timeout: 9000 is out of range; expected 1…900 seconds"
        ]
    ),
    RuleCase(
        rule: "timeout type",
        yaml: withFunction("    timeout: ten\n"),
        expected: [
            "g.yaml:8:14: error: functions[0].timeout: expected an integer, got \"ten\""
        ]
    ),
    RuleCase(
        rule: "memorySize range",
        yaml: withFunction("    memorySize: 1024\n"),
        expected: [
            "g.yaml:8:17: error: functions[0].memorySize: 1024 is out of range; expected 2048…2097152 KB"
        ]
    ),
    RuleCase(
        rule: "memorySize is for containers",
        yaml: withFunction("    memorySize: 65536\n    isolationMode: NoContainer\n"),
        expected: [
            "g.yaml:8:17: error: functions[0].memorySize: applies to GreengrassContainer functions only; V1 required it cleared for NoContainer"
        ]
    ),
    RuleCase(
        rule: "isolation mode",
        yaml: withFunction("    isolationMode: Docker\n"),
        expected: [
            "g.yaml:8:20: error: functions[0].isolationMode: \"Docker\" is not allowed; expected one of GreengrassContainer, NoContainer"
        ]
    ),
    RuleCase(
        rule: "runAs needs uid and gid",
        yaml: withFunction("    runAs: {uid: 1000}\n"),
        expected: [
            "g.yaml:8:12: error: functions[0].runAs.gid: is required"
        ]
    ),
    RuleCase(
        rule: "environment variable name",
        yaml: withFunction("    environment:\n      variables:\n        1X: a\n"),
        expected: [
            "g.yaml:10:9: error: functions[0].environment.variables.1X: \"1X\" is not a valid environment variable name; expected 1…256 characters of A-Z a-z 0-9 _, starting with a letter or _"
        ]
    ),
    RuleCase(
        rule: "IPC variables are reserved",
        yaml: withFunction("    environment:\n      variables:\n        MY_FUNCTION_ARN: x\n"),
        expected: [
            "g.yaml:10:9: error: functions[0].environment.variables.MY_FUNCTION_ARN: MY_FUNCTION_ARN is set by Moss for the Greengrass SDK's IPC and cannot be overridden"
        ]
    ),
    RuleCase(
        rule: "environment value must be given",
        yaml: withFunction("    environment:\n      variables:\n        A:\n"),
        expected: [
            "g.yaml:10:11: error: functions[0].environment.variables.A: expected a string value, got nothing"
        ]
    ),
    RuleCase(
        rule: "duplicate function id and name",
        yaml: withFunction("  - {id: repub, name: repub, runtime: python3.11, handler: app.handler, code: repub}\n"),
        expected: [
            "g.yaml:8:10: error: functions[1].id: \"repub\" is already the function id of functions[0].id (line 3); function ids must be unique",
            "g.yaml:8:23: error: functions[1].name: \"repub\" is already the function name of functions[0].name (line 4); function names must be unique",
        ]
    ),
]

let warningRules: [RuleCase] = [
    RuleCase(
        rule: "informational variables may be overridden",
        yaml: withFunction("    environment:\n      variables:\n        AWS_REGION: eu-west-1\n"),
        expected: [
            "g.yaml:10:9: warning: functions[0].environment.variables.AWS_REGION: AWS_REGION overrides the value Moss sets for every function"
        ]
    ),
    RuleCase(
        rule: "root",
        yaml: withFunction("    runAs: {uid: 0, gid: 0}\n"),
        expected: [
            "g.yaml:8:12: warning: functions[0].runAs: runs the function as root (uid or gid 0); V1 allowed this only with allowFunctionsToRunAsRoot"
        ]
    ),
    RuleCase(
        rule: "accessSysfs without a container",
        yaml: withFunction("    accessSysfs: true\n    isolationMode: NoContainer\n"),
        expected: [
            "g.yaml:8:18: warning: functions[0].accessSysfs: has no effect for a NoContainer function, which sees /sys anyway"
        ]
    ),
    RuleCase(
        rule: "syncDirection without sync",
        yaml: "core:\n  thingName: gw\n  syncDirection: cloudToDevice\n",
        expected: [
            "g.yaml:3:18: warning: core.syncDirection: has no effect: syncShadow is false and no namedShadows are listed"
        ]
    ),
    RuleCase(
        rule: "shadow sync is accepted",
        yaml: "core: {thingName: gw}\ndevices:\n  - thingName: s\n    syncShadow: true\n",
        expected: []
    ),
]

/// `core`, then `resources:` with `body` from line 3.
private func withResources(_ body: String) -> String {
    "core: {thingName: gw}\nresources:\n\(body)"
}

private let model = "  - {id: m, name: m, machineLearningModel: {source: models/m.zip, destinationPath: /ml/m"

let resourceRules: [RuleCase] = [
    RuleCase(
        rule: "exactly one kind: none",
        yaml: withResources("  - id: r\n    name: r\n"),
        expected: [
            "g.yaml:3:5: error: resources[0]: needs one of localVolume, localDevice, machineLearningModel"
        ]
    ),
    RuleCase(
        rule: "exactly one kind: two",
        yaml: withResources(
            "  - id: r\n    name: r\n    localDevice: {sourcePath: /dev/ttyS0}\n    localVolume: {sourcePath: /srv, destinationPath: /srv}\n"
        ),
        expected: [
            "g.yaml:6:18: error: resources[0].localVolume: a resource has exactly one of localVolume, localDevice, machineLearningModel; this one is a localDevice"
        ]
    ),
    RuleCase(
        rule: "volume not under /sys",
        yaml: withResources("  - {id: r, name: r, localVolume: {sourcePath: /sys/class, destinationPath: /c}}\n"),
        expected: [
            "g.yaml:3:48: error: resources[0].localVolume.sourcePath: \"/sys/class\" is under /sys, which V1 refused for volumes"
        ]
    ),
    RuleCase(
        rule: "volume not under /dev",
        yaml: withResources("  - {id: r, name: r, localVolume: {sourcePath: /dev/ttyS0, destinationPath: /c}}\n"),
        expected: [
            "g.yaml:3:48: error: resources[0].localVolume.sourcePath: \"/dev/ttyS0\" is under /dev; use a localDevice resource (only /dev/shm can be a volume)"
        ]
    ),
    RuleCase(
        rule: "volume not under /var",
        yaml: withResources("  - {id: r, name: r, localVolume: {sourcePath: /var/lib/x, destinationPath: /c}}\n"),
        expected: [
            "g.yaml:3:48: error: resources[0].localVolume.sourcePath: \"/var/lib/x\" is under /var, which V1 refused for volumes; mount it elsewhere first"
        ]
    ),
    RuleCase(
        rule: "absolute paths only",
        yaml: withResources("  - {id: r, name: r, localVolume: {sourcePath: data, destinationPath: /a/../b}}\n"),
        expected: [
            "g.yaml:3:48: error: resources[0].localVolume.sourcePath: \"data\" is not an absolute path; expected /… without . or .. parts",
            "g.yaml:3:71: error: resources[0].localVolume.destinationPath: \"/a/../b\" is not an absolute path; expected /… without . or .. parts",
        ]
    ),
    RuleCase(
        rule: "devices live under /dev",
        yaml: withResources("  - {id: r, name: r, localDevice: {sourcePath: /srv/tty}}\n"),
        expected: [
            "g.yaml:3:48: error: resources[0].localDevice.sourcePath: \"/srv/tty\" is not a device; expected a character or block device under /dev"
        ]
    ),
    RuleCase(
        rule: "destinations must not collide",
        yaml: withResources(
            model + "}}\n  - {id: n, name: n, localVolume: {sourcePath: /srv, destinationPath: /ml/m/x}}\n"
        ),
        expected: [
            "g.yaml:4:71: error: resources[1].localVolume.destinationPath: \"/ml/m/x\" collides with \"/ml/m\" of resources[0].machineLearningModel.destinationPath (line 3); destinations must not be equal or nested"
        ]
    ),
    RuleCase(
        rule: "duplicate resource id",
        yaml: withResources(model + "}}\n  - {id: m, name: n, localDevice: {sourcePath: /dev/ttyS0}}\n"),
        expected: [
            "g.yaml:4:10: error: resources[1].id: \"m\" is already the resource id of resources[0].id (line 3); resource ids must be unique"
        ]
    ),
    RuleCase(
        rule: "s3 bucket without dots",
        yaml: withResources(
            "  - {id: m, name: m, machineLearningModel: {source: s3://my.bucket/m.zip, destinationPath: /m}}\n"
        ),
        expected: [
            "g.yaml:3:53: error: resources[0].machineLearningModel.source: \"s3://my.bucket/m.zip\": bucket names with dots are not supported (as in V1)"
        ]
    ),
    RuleCase(
        rule: "s3 package is .tar.gz or .zip",
        yaml: withResources(
            "  - {id: m, name: m, machineLearningModel: {source: s3://models/m.pb, destinationPath: /m}}\n"
        ),
        expected: [
            "g.yaml:3:53: error: resources[0].machineLearningModel.source: \"s3://models/m.pb\": a model package must be a .tar.gz or .zip object (as in V1)"
        ]
    ),
    RuleCase(
        rule: "sagemaker ARN",
        yaml: withResources(
            "  - {id: m, name: m, machineLearningModel: {source: 'arn:aws:sagemaker:us-east-1:1:training-job/x', destinationPath: /m}}\n"
        ),
        expected: [
            "g.yaml:3:53: error: resources[0].machineLearningModel.source: \"arn:aws:sagemaker:us-east-1:1:training-job/x\" is not a SageMaker training-job ARN; expected arn:aws:sagemaker:REGION:ACCOUNT:training-job/NAME"
        ]
    ),
    RuleCase(
        rule: "no plain http",
        yaml: withResources(
            "  - {id: m, name: m, machineLearningModel: {source: 'http://example.com/m.zip', destinationPath: /m}}\n"
        ),
        expected: [
            "g.yaml:3:53: error: resources[0].machineLearningModel.source: \"http://example.com/m.zip\": plain http is not accepted; use https"
        ]
    ),
    RuleCase(
        rule: "local model exists",
        yaml: withResources(
            "  - {id: m, name: m, machineLearningModel: {source: 'file:models/x.zip', destinationPath: /m}}\n"
        ),
        expected: [
            "g.yaml:3:53: error: resources[0].machineLearningModel.source: \"file:models/x.zip\" does not exist (looked for /g/models/x.zip); expected s3://BUCKET/KEY.tar.gz or .zip, arn:aws:sagemaker:REGION:ACCOUNT:training-job/NAME, https://…, or a local path (file:PATH)"
        ]
    ),
    RuleCase(
        rule: "sha256",
        yaml: withResources(model + ", sha256: abc}}\n"),
        expected: [
            "g.yaml:3:99: error: resources[0].machineLearningModel.sha256: \"abc\" is not a SHA-256 digest; expected 64 hex digits"
        ]
    ),
    RuleCase(
        rule: "ownerSetting permission",
        yaml: withResources(model + ", ownerSetting: {groupOwner: ml, groupPermission: rx}}}\n"),
        expected: [
            "g.yaml:3:139: error: resources[0].machineLearningModel.ownerSetting.groupPermission: \"rx\" is not allowed; expected one of ro, rw"
        ]
    ),
]

/// A function using resources: `policies` and `extra` function keys at line 8 on, resources after.
private func withPolicies(_ policies: String, extra: String = "", resources: String) -> String {
    withFunction(extra + "    resourceAccessPolicies: \(policies)\n") + "resources:\n" + resources
}

private let volume = "  - {id: v, name: v, localVolume: {sourcePath: /srv, destinationPath: /srv}}\n"
private let procVolume = "  - {id: p, name: p, localVolume: {sourcePath: /proc/net, destinationPath: /net}}\n"
private let ownedModel = model + ", ownerSetting: {groupOwner: ml, groupPermission: ro}}}\n"

let policyRules: [RuleCase] = [
    RuleCase(
        rule: "at most 10 policies",
        yaml: withPolicies(
            "[" + (0...10).map { "{resourceId: r\($0)}" }.joined(separator: ", ") + "]",
            resources: (0...10).map {
                "  - {id: r\($0), name: r, localVolume: {sourcePath: /srv/\($0), destinationPath: /d/\($0)}}\n"
            }.joined()
        ),
        expected: [
            "g.yaml:8:29: error: functions[0].resourceAccessPolicies: 11 policies; a function may use at most 10 resources (V1's quota)"
        ]
    ),
    RuleCase(
        rule: "policy names a resource",
        yaml: withPolicies("[{resourceId: w}]", resources: volume),
        expected: [
            "g.yaml:8:43: error: functions[0].resourceAccessPolicies[0].resourceId: \"w\" names no resource of this group; resources: v"
        ]
    ),
    RuleCase(
        rule: "policy names a resource once",
        yaml: withPolicies("[{resourceId: v}, {resourceId: v, permission: rw}]", resources: volume),
        expected: [
            "g.yaml:8:60: error: functions[0].resourceAccessPolicies[1].resourceId: \"v\" is already referenced by functions[0].resourceAccessPolicies[0].resourceId (line 8)"
        ]
    ),
    RuleCase(
        rule: "NoContainer cannot use volumes",
        yaml: withPolicies("[{resourceId: v}]", extra: "    isolationMode: NoContainer\n", resources: volume),
        expected: [
            "g.yaml:9:43: error: functions[0].resourceAccessPolicies[0].resourceId: a NoContainer function cannot use a localVolume resource (as in V1); it reads /srv directly"
        ]
    ),
    RuleCase(
        rule: "NoContainer needs the model's ownerSetting",
        yaml: withPolicies("[{resourceId: m}]", extra: "    isolationMode: NoContainer\n", resources: model + "}}\n"),
        expected: [
            "g.yaml:9:43: error: functions[0].resourceAccessPolicies[0].resourceId: a NoContainer function needs the resource's ownerSetting (as in V1 1.10)"
        ]
    ),
    RuleCase(
        rule: "permission no wider than ownerSetting",
        yaml: withPolicies("[{resourceId: m, permission: rw}]", resources: ownedModel),
        expected: [
            "g.yaml:8:58: error: functions[0].resourceAccessPolicies[0].permission: rw is wider than the resource's ownerSetting (ro); a function's permission must be equal or stricter"
        ]
    ),
    RuleCase(
        rule: "/proc volumes are read-only",
        yaml: withPolicies("[{resourceId: p, permission: rw}]", resources: procVolume),
        expected: [
            "g.yaml:8:58: error: functions[0].resourceAccessPolicies[0].permission: volumes under /proc are read-only (as in V1); expected ro"
        ]
    ),
]

/// A device `s` and the `fn` function, then `subscriptions:` with `body` from line 11.
private func withSubscriptions(_ body: String) -> String {
    "core: {thingName: gw}\ndevices:\n  - thingName: s\nfunctions:\n\(fn)\nsubscriptions:\n\(body)"
}

private func route(_ source: String, _ subject: String, _ target: String, id: String = "r") -> String {
    "  - {id: \(id), source: '\(source)', subject: '\(subject)', target: '\(target)'}\n"
}

let subscriptionRules: [RuleCase] = [
    RuleCase(
        rule: "endpoint syntax",
        yaml: withSubscriptions(route("sensor", "a", "cloud")),
        expected: [
            "g.yaml:11:21: error: subscriptions[0].source: \"sensor\" is not an endpoint; expected device:THING, function:NAME, pipeline:ID, cloud, shadow, GGShadowService, arn:aws:iot:us-east-1:000000000000:thing/THING or arn:aws:lambda:us-east-1:000000000000:function:NAME:VERSION"
        ]
    ),
    RuleCase(
        rule: "ARN region and account",
        yaml: withSubscriptions(route("arn:aws:iot:eu-west-1:000000000000:thing/s", "a", "function:repub")),
        expected: [
            "g.yaml:11:21: error: subscriptions[0].source: \"arn:aws:iot:eu-west-1:000000000000:thing/s\" names region \"eu-west-1\" and account \"000000000000\"; this core's ARNs use region \"us-east-1\" and account \"000000000000\""
        ]
    ),
    RuleCase(
        rule: "function ARN needs a version",
        yaml: withSubscriptions(route("device:s", "a", "arn:aws:lambda:us-east-1:000000000000:function:repub")),
        expected: [
            "g.yaml:11:55: error: subscriptions[0].target: \"arn:aws:lambda:us-east-1:000000000000:function:repub\" has no version; V1 needs a function ARN with a version or alias, e.g. arn:aws:lambda:us-east-1:000000000000:function:repub:1"
        ]
    ),
    RuleCase(
        rule: "function ARN version is the deployed one",
        yaml: withSubscriptions(route("device:s", "a", "arn:aws:lambda:us-east-1:000000000000:function:repub:2")),
        expected: [
            "g.yaml:11:55: error: subscriptions[0].target: the ARN names version \"2\" of repub, but the group deploys version \"1\""
        ]
    ),
    RuleCase(
        rule: "connectors",
        yaml: withSubscriptions(route("arn:aws:greengrass:us-east-1::/connectors/X/versions/1", "a", "cloud")),
        expected: [
            "g.yaml:11:21: error: subscriptions[0].source: \"arn:aws:greengrass:us-east-1::/connectors/X/versions/1\": connectors are not supported by Moss"
        ]
    ),
    RuleCase(
        rule: "unknown device",
        yaml: withSubscriptions(route("device:t", "a", "function:repub")),
        expected: [
            "g.yaml:11:21: error: subscriptions[0].source: \"device:t\" names no device of this group; devices: s"
        ]
    ),
    RuleCase(
        rule: "the core is no endpoint",
        yaml: withSubscriptions(route("device:gw", "a", "function:repub")),
        expected: [
            "g.yaml:11:21: error: subscriptions[0].source: \"gw\" is the core's thing, not a device; the core is not a subscription endpoint"
        ]
    ),
    RuleCase(
        rule: "unknown function",
        yaml: withSubscriptions(route("device:s", "a", "function:repubb")),
        expected: [
            "g.yaml:11:55: error: subscriptions[0].target: \"function:repubb\" names no function of this group; functions: repub"
        ]
    ),
    RuleCase(
        rule: "source is not target",
        yaml: withSubscriptions(route("device:s", "a", "arn:aws:iot:us-east-1:000000000000:thing/s")),
        expected: [
            "g.yaml:11:55: error: subscriptions[0].target: the target is the source (device:s); a subscription goes from one endpoint to another"
        ]
    ),
    RuleCase(
        rule: "cloud to cloud",
        yaml: withSubscriptions(route("cloud", "a", "cloud")),
        expected: [
            "g.yaml:11:52: error: subscriptions[0].target: a subscription from cloud to cloud is not allowed; one end must be in the group"
        ]
    ),
    RuleCase(
        rule: "subject is a topic or filter",
        yaml: withSubscriptions(route("device:s", "a/#/b", "function:repub")),
        expected: [
            "g.yaml:11:42: error: subscriptions[0].subject: \"a/#/b\" is not a valid topic or topic filter: '#' must be the last level and '+'/'#' must fill a whole level"
        ]
    ),
    RuleCase(
        rule: "no shared subscriptions",
        yaml: withSubscriptions(route("device:s", "$share/g/a", "function:repub")),
        expected: [
            "g.yaml:11:42: error: subscriptions[0].subject: \"$share/g/a\": a shared subscription ($share/…) cannot be a subject"
        ]
    ),
    RuleCase(
        rule: "duplicate subscription id",
        yaml: withSubscriptions(route("device:s", "a", "function:repub") + route("device:s", "b", "function:repub")),
        expected: [
            "g.yaml:12:10: error: subscriptions[1].id: \"r\" is already the subscription id of subscriptions[0].id (line 11); subscription ids must be unique"
        ]
    ),
    RuleCase(
        rule: "more than 10000 subscriptions",
        yaml: withSubscriptions(
            (0...10_000).map { route("device:s", "t/\($0)", "function:repub", id: "r\($0)") }.joined()
        ),
        expected: [
            "g.yaml:11:3: error: subscriptions: 10001 subscriptions; a group has at most 10000 (V1's quota)"
        ]
    ),
    RuleCase(
        rule: "duplicate route (warning)",
        yaml: withSubscriptions(
            route("device:s", "a", "function:repub") + route("device:s", "a", "function:repub", id: "q")
        ),
        expected: [
            "g.yaml:12:5: warning: subscriptions[1]: routes the same messages as subscriptions[0] (line 11); one of them is enough"
        ]
    ),
    RuleCase(
        rule: "shadow subjects (warning)",
        yaml: withSubscriptions(route("device:s", "a/b", "shadow")),
        expected: [
            "g.yaml:11:42: warning: subscriptions[0].subject: \"a/b\" is not a shadow topic; the shadow service only uses $aws/things/THING/shadow/…"
        ]
    ),
    RuleCase(
        rule: "cloud routes are accepted",
        yaml: withSubscriptions(route("function:repub", "a", "cloud") + route("cloud", "b", "device:s", id: "q")),
        expected: []
    ),
]

let loggingRules: [RuleCase] = [
    RuleCase(
        rule: "log level",
        yaml: "core: {thingName: gw}\nlogging:\n  - {component: Lambda, level: TRACE}\n",
        expected: [
            "g.yaml:3:32: error: logging[0].level: \"TRACE\" is not allowed; expected one of DEBUG, INFO, WARN, ERROR, FATAL"
        ]
    ),
    RuleCase(
        rule: "log space",
        yaml: "core: {thingName: gw}\nlogging:\n  - {component: Lambda, space: 0}\n",
        expected: [
            "g.yaml:3:32: error: logging[0].space: 0 is out of range; expected 1…1048576 KB"
        ]
    ),
    RuleCase(
        rule: "one logger per component and type",
        yaml: "core: {thingName: gw}\nlogging:\n  - {component: Lambda}\n  - {component: Lambda, level: DEBUG}\n",
        expected: [
            "g.yaml:4:5: error: logging[1]: a second Lambda logger of type FileSystem; logging[0] (line 3) already configures it"
        ]
    ),
    RuleCase(
        rule: "CloudWatch not yet (warning)",
        yaml: "core: {thingName: gw}\nlogging:\n  - {component: Lambda, type: AWSCloudWatch}\n",
        expected: [
            "g.yaml:3:31: warning: logging[0].type: AWSCloudWatch is accepted but not supported yet; these logs go nowhere"
        ]
    ),
]

@Suite("Validation rules") struct RuleTests {
    @Test(
        arguments: fileRules + thingRules + functionRules + warningRules + resourceRules + policyRules
            + subscriptionRules + loggingRules
    )
    func rule(_ rule: RuleCase) {
        #expect(diagnostics(rule.yaml) == rule.expected)
    }
}
