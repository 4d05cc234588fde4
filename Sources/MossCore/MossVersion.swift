/// The version `moss --version` prints and the admin API reports.
public enum MossVersion {
    public static let current = "0.1.0"
}
