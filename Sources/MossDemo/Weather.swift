import Foundation

/// The demo's weather: a hidden wetness that rises and falls over a cycle (it rains while it is at least
/// ``rainThreshold``), and BME680-like readings drawn from it with noise. scripts/demo/train_models.py trains the
/// demo's models on the same model with the same constants; change them together.
struct Weather: Sendable {
    static let rainThreshold = 0.6

    /// Seconds for one dry → rain → dry cycle.
    let cycle: Double
    private var random: SeededRandom

    init(cycle: Double, seed: UInt64) {
        self.cycle = cycle
        self.random = SeededRandom(seed: seed)
    }

    /// Where in the cycle a demo starts (radians): dry, but clouding over, so that the first rain comes an eighth of a
    /// cycle in (15 s at the default 2 minutes) and whoever watches sees the prediction change.
    static let startingPhase = 1.0

    /// Wetness in [0, 1] at `elapsed` seconds: a cosine over the cycle; it rains while it is at least 0.6 (44 % of it).
    func wetness(at elapsed: Double) -> Double {
        0.5 - 0.5 * cos(Self.startingPhase + 2 * Double.pi * elapsed / cycle)
    }

    /// A reading of the air at `elapsed` seconds.
    mutating func reading(at elapsed: Double) -> Reading {
        let w = wetness(at: elapsed)
        return Reading(
            temperature: 14 - 7 * w + random.normal(deviation: 1.0),
            humidity: min(100, max(0, 52 + 45 * w + random.normal(deviation: 3.0))),
            pressure: 1016 - 24 * w + random.normal(deviation: 1.5),
            raining: w >= Self.rainThreshold
        )
    }

    struct Reading: Sendable, Hashable {
        /// Degrees C, relative humidity in %, hPa (the BME680's units).
        var temperature: Double
        var humidity: Double
        var pressure: Double
        /// The truth the models try to predict; not published.
        var raining: Bool
    }
}

/// SplitMix64 with Box-Muller normals: a reproducible stream, so a demo run with the same seed reads the same.
struct SeededRandom: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    mutating func uniform() -> Double { (Double(next() >> 11) + 1) / 9_007_199_254_740_992.0 }

    mutating func normal(deviation: Double) -> Double {
        deviation * (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
    }
}
