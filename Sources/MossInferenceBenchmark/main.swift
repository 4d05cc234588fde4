// Benchmarks for scripts/bench/inference.sh. Each mode prints one JSON object per line.
//   pipeline STANDARDISER_DIR RAIN_DIR      the tutorial's pipeline, batch 1
//   model PATH NAME=D1xD2x… [REPEATS]       one signature on random inputs (latency per run)
//   sgemm N [REPEATS]                       N×N×N SGEMM: Moss's portable kernel and OpenBLAS (when present)
import MossInference

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
}

/// CPU time of the whole process (every thread): on a loaded machine it leaves out the time spent waiting for a core.
func cpuNow() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func fail(_ message: String) -> Never {
    FileHandle.standardErrorWrite("moss-inference-bench: \(message)\n")
    exit(2)
}

enum FileHandle {
    static func standardErrorWrite(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

func json(_ fields: [(String, String)]) {
    print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
}

func quoted(_ text: String) -> String { "\"\(text)\"" }

/// The tutorial's readings (reference_outputs.json's raw values), cycled through.
let readings: [[Float]] = [
    [1005, 21, 78], [1005.2359619, 4.7374167, 71.0542679], [951.1, -6.4, 22], [1036.4, 20.1, 97],
    [974.8, 0.7, 95], [984.8, 1.9, 95], [1007.6, 2.7, 36], [0, 0, 0],
]

func pipeline(standardiserPath: String, rainPath: String) throws {
    let loadStart = now()
    let standardiser = try InferenceModel.load(path: standardiserPath).signature()
    let rain = try InferenceModel.load(path: rainPath).signature()
    let loadSeconds = now() - loadStart

    // The allocation-free path: buffers fixed once; the standardiser's output is copied into the predictor's input.
    let standardise = try standardiser.makeSession().prepare(shapes: ["x": [1, 3]])
    let predict = try rain.makeSession().prepare(shapes: ["input": [1, 3]])
    let x = standardise.inputBuffer("x")!
    let xPrime = standardise.outputBuffer("x_prime")!
    let input = predict.inputBuffer("input")!
    let y = predict.outputBuffer("y")!
    var rainy = 0
    let iterations = 20_000
    var perPrediction: [Double] = []
    for round in 0..<60 {
        let start = now()
        for i in 0..<iterations {
            let reading = readings[i & 7]
            x[0] = reading[0]
            x[1] = reading[1]
            x[2] = reading[2]
            standardise.run()
            input[0] = xPrime[0]
            input[1] = xPrime[1]
            input[2] = xPrime[2]
            predict.run()
            rainy &+= y[0] > 0.5 ? 1 : 0
        }
        if round >= 5 { perPrediction.append((now() - start) / Double(iterations)) }
    }

    // The convenience path: dictionaries of tensors in and out, as `moss infer` and the IPC service use it.
    let standardiseSession = standardiser.makeSession()
    let predictSession = rain.makeSession()
    var convenience: [Double] = []
    for round in 0..<30 {
        let start = now()
        for i in 0..<2_000 {
            let raw = Tensor(shape: [1, 3], floats: readings[i & 7])
            let scaled = try standardiseSession.run(["x": raw])["x_prime"]!
            let prediction = try predictSession.run(["input": scaled])["y"]!
            rainy &+= prediction.floats![0] > 0.5 ? 1 : 0
        }
        if round >= 3 { convenience.append((now() - start) / 2_000) }
    }
    json([
        ("benchmark", quoted("pipeline")), ("engine", quoted("moss")),
        ("prepared_us_p50", String(median(perPrediction) * 1e6)),
        ("prepared_us_min", String(perPrediction.min()! * 1e6)),
        ("tensor_api_us_p50", String(median(convenience) * 1e6)), ("load_ms", String(loadSeconds * 1e3)),
        ("check", String(rainy)),
    ])
}

func model(path: String, shapes: [String: [Int]], repeats: Int) throws {
    let loadStart = now()
    let signature = try InferenceModel.load(path: path).signature()
    let loadSeconds = now() - loadStart
    let prepared = try signature.makeSession().prepare(shapes: shapes)
    var state: UInt32 = 12345
    for name in shapes.keys {
        let buffer = prepared.inputBuffer(name)!
        for i in buffer.indices {
            state = state &* 1_664_525 &+ 1_013_904_223
            buffer[i] = Float(state >> 8) / Float(1 << 24) * 2 - 1
        }
    }
    prepared.run()
    var times: [Double] = []
    var cpuTimes: [Double] = []
    for _ in 0..<repeats {
        let start = now()
        let cpuStart = cpuNow()
        prepared.run()
        cpuTimes.append(cpuNow() - cpuStart)
        times.append(now() - start)
    }
    // A fingerprint of the first output, to compare with another engine on the same input.
    let output = prepared.outputBuffer(prepared.outputNames[0])!
    let head = output.prefix(4).map { String($0) }.joined(separator: ", ")
    let argmax = output.indices.max { output[$0] < output[$1] } ?? 0
    json([
        ("benchmark", quoted("model")), ("engine", quoted("moss")), ("path", quoted(path)),
        ("output_head", "[\(head)]"), ("output_argmax", String(argmax)),
        ("ms_p50", String(median(times) * 1e3)), ("ms_min", String(times.min()! * 1e3)),
        ("cpu_ms_p50", String(median(cpuTimes) * 1e3)), ("cpu_ms_min", String(cpuTimes.min()! * 1e3)),
        ("load_ms", String(loadSeconds * 1e3)),
        ("blas", quoted(OpenBLAS.loadedPath ?? "none")),
    ])
}

func sgemm(size n: Int, repeats: Int) {
    let a = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    let b = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    for i in 0..<(n * n) {
        a[i] = Float(i % 7) * 0.25 - 0.5
        b[i] = Float(i % 5) * 0.125 - 0.25
    }
    func measure(_ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = now()
            body()
            times.append(now() - start)
        }
        return 2 * Double(n * n * n) / median(times) / 1e9
    }
    let portable = measure {
        MatrixProduct.portableSGEMM(
            transposeA: false,
            transposeB: false,
            m: n,
            n: n,
            k: n,
            alpha: 1,
            a: a,
            lda: n,
            b: b,
            ldb: n,
            beta: 0,
            c: c,
            ldc: n
        )
    }
    var fields: [(String, String)] = [
        ("benchmark", quoted("sgemm")), ("n", String(n)), ("moss_portable_gflops", String(portable)),
    ]
    if let blas = OpenBLAS.sgemm {
        let openblas = measure {
            blas(
                OpenBLAS.rowMajor,
                OpenBLAS.noTranspose,
                OpenBLAS.noTranspose,
                Int32(n),
                Int32(n),
                Int32(n),
                1,
                a,
                Int32(n),
                b,
                Int32(n),
                0,
                c,
                Int32(n)
            )
        }
        let engine = measure {
            MatrixProduct.sgemm(
                transposeA: false,
                transposeB: false,
                m: n,
                n: n,
                k: n,
                alpha: 1,
                a: a,
                lda: n,
                b: b,
                ldb: n,
                beta: 0,
                c: c,
                ldc: n
            )
        }
        fields += [
            ("openblas_gflops", String(openblas)), ("moss_engine_gflops", String(engine)),
            ("openblas", quoted(OpenBLAS.loadedPath ?? "")),
        ]
    }
    json(fields)
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    fail("usage: pipeline STD RAIN | model PATH NAME=D1xD2 [REPEATS] | sgemm N [REPEATS]")
}
do {
    switch arguments[1] {
    case "pipeline" where arguments.count == 4:
        try pipeline(standardiserPath: arguments[2], rainPath: arguments[3])
    case "model" where arguments.count >= 4:
        var shapes: [String: [Int]] = [:]
        var repeats = 30
        for argument in arguments[3...] {
            if let equals = argument.firstIndex(of: "=") {
                shapes[String(argument[..<equals])] = argument[argument.index(after: equals)...].split(separator: "x")
                    .map { Int($0)! }
            } else {
                repeats = Int(argument)!
            }
        }
        try model(path: arguments[2], shapes: shapes, repeats: repeats)
    case "sgemm" where arguments.count >= 3:
        sgemm(size: Int(arguments[2])!, repeats: arguments.count > 3 ? Int(arguments[3])! : 10)
    default:
        fail("unknown mode or wrong arguments: \(arguments[1...].joined(separator: " "))")
    }
} catch {
    fail("\(error)")
}
