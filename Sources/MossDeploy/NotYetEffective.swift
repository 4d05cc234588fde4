/// Warnings for what the group file accepts but Moss does not do yet. Each one goes when the feature lands.
enum NotYetEffective {
    /// Until MossCloud: shadows stay local.
    static func shadowSync(_ reader: GroupReader, at path: String) {
        reader.warning(at: path, "shadow sync with the cloud is not available yet; the shadow stays local")
    }

    /// Until MossCloud: the router drops (and counts) what it would send to the cloud.
    static func toCloud(_ reader: GroupReader, at path: String) {
        reader.warning(at: path, "Moss has no cloud connection yet; messages for cloud are dropped")
    }

    static func fromCloud(_ reader: GroupReader, at path: String) {
        reader.warning(at: path, "Moss has no cloud connection yet; no messages come from cloud")
    }

    static func cloudWatch(_ reader: GroupReader, at path: String) {
        reader.warning(at: path, "AWSCloudWatch is accepted but not supported yet; these logs go nowhere")
    }
}
