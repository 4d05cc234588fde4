extension GroupDefinition {
    /// A local resource functions may be given access to (V1's resource definition, secrets excepted).
    public struct Resource: Sendable, Hashable, Codable {
        public var id: String
        public var name: String
        public var kind: Kind

        public init(id: String, name: String, kind: Kind) {
            self.id = id
            self.name = name
            self.kind = kind
        }

        public enum Kind: Sendable, Hashable {
            case localVolume(LocalVolume)
            case localDevice(LocalDevice)
            case machineLearningModel(MachineLearningModel)
        }

        /// Where the resource appears to a function: a volume's or model's destination, a device's own path.
        public var destinationPath: String {
            switch kind {
            case .localVolume(let volume): volume.destinationPath
            case .localDevice(let device): device.sourcePath
            case .machineLearningModel(let model): model.destinationPath
            }
        }

        private enum CodingKeys: String, CodingKey {
            case id, name, localVolume, localDevice, machineLearningModel
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(String.self, forKey: .id)
            name = try container.decode(String.self, forKey: .name)
            if let volume = try container.decodeIfPresent(LocalVolume.self, forKey: .localVolume) {
                kind = .localVolume(volume)
            } else if let device = try container.decodeIfPresent(LocalDevice.self, forKey: .localDevice) {
                kind = .localDevice(device)
            } else {
                kind = .machineLearningModel(
                    try container.decode(MachineLearningModel.self, forKey: .machineLearningModel)
                )
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            switch kind {
            case .localVolume(let volume): try container.encode(volume, forKey: .localVolume)
            case .localDevice(let device): try container.encode(device, forKey: .localDevice)
            case .machineLearningModel(let model): try container.encode(model, forKey: .machineLearningModel)
            }
        }
    }

    /// A host file or directory mounted into functions (V1's `LocalVolumeResourceData`).
    public struct LocalVolume: Sendable, Hashable, Codable {
        public var sourcePath: String
        public var destinationPath: String
        public var groupOwnerSetting: GroupOwnerSetting

        public init(sourcePath: String, destinationPath: String, groupOwnerSetting: GroupOwnerSetting = .init()) {
            self.sourcePath = sourcePath
            self.destinationPath = destinationPath
            self.groupOwnerSetting = groupOwnerSetting
        }
    }

    /// A character or block device under /dev (V1's `LocalDeviceResourceData`).
    public struct LocalDevice: Sendable, Hashable, Codable {
        public var sourcePath: String
        public var groupOwnerSetting: GroupOwnerSetting

        public init(sourcePath: String, groupOwnerSetting: GroupOwnerSetting = .init()) {
            self.sourcePath = sourcePath
            self.groupOwnerSetting = groupOwnerSetting
        }
    }

    /// V1's `GroupOwnerSetting`: which Linux group's permissions a function gains on the resource.
    public struct GroupOwnerSetting: Sendable, Hashable, Codable {
        /// Add the resource's own group owner to the function's process.
        public var autoAddGroupOwner: Bool
        /// A group name whose permissions the function gains.
        public var groupOwner: String?

        public init(autoAddGroupOwner: Bool = false, groupOwner: String? = nil) {
            self.autoAddGroupOwner = autoAddGroupOwner
            self.groupOwner = groupOwner
        }
    }

    /// A model package downloaded (or copied) and unpacked at `destinationPath`
    /// (V1's S3 and SageMaker machine learning resources, plus https and local files).
    public struct MachineLearningModel: Sendable, Hashable, Codable {
        public var source: ModelSource
        public var destinationPath: String
        /// Required for NoContainer functions, as in V1 1.10.
        public var ownerSetting: OwnerSetting?
        /// Expected SHA-256 of the package, lowercase hex.
        public var sha256: String?

        public init(
            source: ModelSource,
            destinationPath: String,
            ownerSetting: OwnerSetting? = nil,
            sha256: String? = nil
        ) {
            self.source = source
            self.destinationPath = destinationPath
            self.ownerSetting = ownerSetting
            self.sha256 = sha256
        }
    }

    /// Where a model package comes from; written in the file as one string.
    public enum ModelSource: Sendable, Hashable, Codable, CustomStringConvertible {
        /// `s3://bucket/key` with a `.tar.gz` or `.zip` key.
        case s3(bucket: String, key: String)
        /// `arn:aws:sagemaker:REGION:ACCOUNT:training-job/NAME`: the job's model artefact.
        case sageMakerTrainingJob(arn: String)
        /// An `https://` URL.
        case https(String)
        /// An absolute local path to a package or directory.
        case file(String)

        public var description: String {
            switch self {
            case .s3(let bucket, let key): "s3://\(bucket)/\(key)"
            case .sageMakerTrainingJob(let arn): arn
            case .https(let url): url
            case .file(let path): "file:" + path
            }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            switch ModelSourceSyntax.parse(text) {
            case .success(let source): self = source
            case .failure(let problem):
                throw DecodingError.dataCorruptedError(in: container, debugDescription: problem.message)
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }
    }

    /// V1's `OwnerSetting` of a machine learning resource.
    public struct OwnerSetting: Sendable, Hashable, Codable {
        /// A group name or numeric GID that owns the unpacked model.
        public var groupOwner: String
        public var groupPermission: Permission

        public init(groupOwner: String, groupPermission: Permission) {
            self.groupOwner = groupOwner
            self.groupPermission = groupPermission
        }
    }
}
