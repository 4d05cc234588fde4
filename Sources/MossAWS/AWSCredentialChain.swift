import Foundation

/// Finds credentials and the region the way the AWS CLI does, minus the sources Moss does not support.
///
/// Credentials, first found wins:
/// 1. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` (skipped when a profile is
///    named explicitly, as botocore does; `AWS_PROFILE` does not skip it);
/// 2. the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`), section `[PROFILE]`;
/// 3. the config file (`AWS_CONFIG_FILE`, else `~/.aws/config`), section `[profile PROFILE]` or `[default]`.
///
/// The profile is the explicit one, else `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`, else `default`. Instance
/// metadata (IMDS), SSO, assume-role (`role_arn`), `credential_process` and web identity are not supported; a
/// profile that relies on one of them is an error that says so.
///
/// The environment is a parameter (the composition root passes the process's), so tests never touch the real one.
public struct AWSCredentialChain: Sendable {
    /// The environment variables to read (`HOME` included, for `~`).
    public var environment: [String: String]
    /// A profile named by the configuration; `nil` to use `AWS_PROFILE` or `default`.
    public var explicitProfile: String?

    /// A chain over `environment`, with an optional explicit profile.
    public init(environment: [String: String], profile: String? = nil) {
        self.environment = environment
        self.explicitProfile = profile.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The profile in use: the explicit one, `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`, or `default`.
    public var profile: String {
        explicitProfile ?? variable("AWS_PROFILE") ?? variable("AWS_DEFAULT_PROFILE") ?? "default"
    }

    /// The shared credentials file's path: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    public var credentialsFilePath: String? {
        path(variable: "AWS_SHARED_CREDENTIALS_FILE", default: ".aws/credentials")
    }

    /// The config file's path: `AWS_CONFIG_FILE`, else `~/.aws/config`.
    public var configFilePath: String? { path(variable: "AWS_CONFIG_FILE", default: ".aws/config") }

    /// Credentials from the first source that has them, and a description of that source.
    public func resolve() throws(AWSCredentialsError) -> (credentials: AWSCredentials, source: String) {
        let profile = profile
        var lookedAt: [String] = []

        if let explicitProfile {
            lookedAt.append("environment: skipped, profile '\(explicitProfile)' was named explicitly")
        } else {
            let key = variable("AWS_ACCESS_KEY_ID")
            let secret = variable("AWS_SECRET_ACCESS_KEY")
            switch (key, secret) {
            case (let key?, let secret?):
                let token = variable("AWS_SESSION_TOKEN") ?? variable("AWS_SECURITY_TOKEN")
                return (AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token), "environment")
            case (.some, nil):
                throw AWSCredentialsError(
                    .incomplete,
                    "AWS_ACCESS_KEY_ID is set in the environment but AWS_SECRET_ACCESS_KEY is not"
                )
            case (nil, .some):
                throw AWSCredentialsError(
                    .incomplete,
                    "AWS_SECRET_ACCESS_KEY is set in the environment but AWS_ACCESS_KEY_ID is not"
                )
            case (nil, nil):
                lookedAt.append("environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
            }
        }

        var profileExists = false
        let files = [
            SharedFile(path: credentialsFilePath, variable: "AWS_SHARED_CREDENTIALS_FILE", isConfig: false),
            SharedFile(path: configFilePath, variable: "AWS_CONFIG_FILE", isConfig: true),
        ]
        for file in files {
            guard let path = file.path else {
                lookedAt.append("\(file.variable) and HOME are not set, so there is no file to read")
                continue
            }
            guard FileManager.default.fileExists(atPath: path) else {
                lookedAt.append("\(path) does not exist")
                continue
            }
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw AWSCredentialsError(.unreadable, "cannot read \(path): \(error)")
            }
            let parsed = AWSSharedConfigFile(parsing: text)
            let section = file.isConfig && profile != "default" ? "[profile \(profile)]" : "[\(profile)]"
            guard let settings = file.isConfig ? parsed.configProfile(profile) : parsed.credentialsProfile(profile)
            else {
                lookedAt.append("\(path) has no \(section) section")
                continue
            }
            profileExists = true
            let place = "\(path) \(section)"
            if let credentials = try Self.staticCredentials(settings, place: place) {
                return (credentials, place)
            }
            if let unsupported = Self.unsupportedSource(settings) {
                throw AWSCredentialsError(
                    .unsupported,
                    "profile '\(profile)' in \(place) gets its credentials from \(unsupported), which Moss does "
                        + "not support; give the profile aws_access_key_id and aws_secret_access_key, "
                        + "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                )
            }
            lookedAt.append("\(place) has no aws_access_key_id or aws_secret_access_key")
        }

        let places = lookedAt.joined(separator: "; ")
        if !profileExists && profile != "default" {
            throw AWSCredentialsError(.profileNotFound, "AWS profile '\(profile)' not found; looked at: \(places)")
        }
        throw AWSCredentialsError(.notFound, "no AWS credentials for profile '\(profile)'; looked at: \(places)")
    }

    /// The region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's `region` in the config file.
    public func region() -> String? {
        if let region = variable("AWS_REGION") ?? variable("AWS_DEFAULT_REGION") { return region }
        guard let path = configFilePath, let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return nil
        }
        return AWSSharedConfigFile(parsing: text).configProfile(profile)?["region"].flatMap { $0.isEmpty ? nil : $0 }
    }

    // MARK: Helpers

    /// One of the two shared files: where it is, the variable that moves it, and which section syntax it uses.
    private struct SharedFile {
        var path: String?
        var variable: String
        var isConfig: Bool
    }

    private func variable(_ name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }

    private func path(variable name: String, default relative: String) -> String? {
        let home = variable("HOME")
        if let configured = variable(name) {
            guard configured == "~" || configured.hasPrefix("~/"), let home else { return configured }
            return home + configured.dropFirst()
        }
        guard let home else { return nil }
        return (home.hasSuffix("/") ? home : home + "/") + relative
    }

    private static func staticCredentials(
        _ settings: [String: String],
        place: String
    ) throws(AWSCredentialsError) -> AWSCredentials? {
        let key = settings["aws_access_key_id"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = settings["aws_secret_access_key"].flatMap { $0.isEmpty ? nil : $0 }
        switch (key, secret) {
        case (let key?, let secret?):
            let token = settings["aws_session_token"] ?? settings["aws_security_token"]
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
        case (.some, nil):
            throw AWSCredentialsError(.incomplete, "\(place) has aws_access_key_id but no aws_secret_access_key")
        case (nil, .some):
            throw AWSCredentialsError(.incomplete, "\(place) has aws_secret_access_key but no aws_access_key_id")
        case (nil, nil):
            return nil
        }
    }

    private static func unsupportedSource(_ settings: [String: String]) -> String? {
        if settings["role_arn"] != nil { return "role_arn (assume-role)" }
        if settings["sso_session"] != nil || settings["sso_start_url"] != nil {
            return "SSO (sso_session/sso_start_url)"
        }
        if settings["credential_process"] != nil { return "credential_process" }
        if settings["web_identity_token_file"] != nil { return "web_identity_token_file" }
        if settings["credential_source"] != nil { return "credential_source (instance metadata)" }
        return nil
    }
}
