/// Warnings for what the group file accepts but Moss does not do yet. Each one goes when the feature lands.
enum NotYetEffective {
    static func cloudWatch(_ reader: GroupReader, at path: String) {
        reader.warning(at: path, "AWSCloudWatch is accepted but not supported yet; these logs go nowhere")
    }
}
