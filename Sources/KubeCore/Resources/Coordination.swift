import Foundation

/// `coordination.k8s.io/v1 Lease`, used for leader election. Times are MicroTime (six fractional digits).
public struct Lease: KubernetesResource, Hashable {
    /// `spec` of a Lease.
    public struct Spec: Codable, Sendable, Hashable {
        public var holderIdentity: String?
        public var leaseDurationSeconds: Int32?
        public var acquireTime: Date?
        public var renewTime: Date?
        public var leaseTransitions: Int32?
        public var strategy: String?
        public var preferredHolder: String?

        public init(
            holderIdentity: String? = nil, leaseDurationSeconds: Int32? = nil, acquireTime: Date? = nil,
            renewTime: Date? = nil, leaseTransitions: Int32? = nil
        ) {
            self.holderIdentity = holderIdentity
            self.leaseDurationSeconds = leaseDurationSeconds
            self.acquireTime = acquireTime
            self.renewTime = renewTime
            self.leaseTransitions = leaseTransitions
        }

        enum CodingKeys: String, CodingKey {
            case holderIdentity, leaseDurationSeconds, acquireTime, renewTime, leaseTransitions, strategy
            case preferredHolder
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            holderIdentity = try c.decodeIfPresent(String.self, forKey: .holderIdentity)
            leaseDurationSeconds = try c.decodeIfPresent(Int32.self, forKey: .leaseDurationSeconds)
            acquireTime = try c.decodeTime(forKey: .acquireTime)
            renewTime = try c.decodeTime(forKey: .renewTime)
            leaseTransitions = try c.decodeIfPresent(Int32.self, forKey: .leaseTransitions)
            strategy = try c.decodeIfPresent(String.self, forKey: .strategy)
            preferredHolder = try c.decodeIfPresent(String.self, forKey: .preferredHolder)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(holderIdentity, forKey: .holderIdentity)
            try c.encodeIfPresent(leaseDurationSeconds, forKey: .leaseDurationSeconds)
            try c.encodeMicroTime(acquireTime, forKey: .acquireTime)
            try c.encodeMicroTime(renewTime, forKey: .renewTime)
            try c.encodeIfPresent(leaseTransitions, forKey: .leaseTransitions)
            try c.encodeIfPresent(strategy, forKey: .strategy)
            try c.encodeIfPresent(preferredHolder, forKey: .preferredHolder)
        }
    }

    public static let resource = ResourceDescriptor.leases
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: Spec

    public init(metadata: ObjectMeta, spec: Spec = Spec()) {
        apiVersion = Self.resource.apiVersion
        kind = Self.resource.kind
        self.metadata = metadata
        self.spec = spec
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, spec }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try c.decodeIfPresent(Spec.self, forKey: .spec) ?? Spec()
    }
}

/// `events.k8s.io/v1 Event`. `eventTime` and `series.lastObservedTime` are MicroTime (six fractional digits).
public struct Event: KubernetesResource, Hashable {
    /// `series`: repeated occurrences of the same event.
    public struct Series: Codable, Sendable, Hashable {
        public var count: Int32
        public var lastObservedTime: Date
        public init(count: Int32, lastObservedTime: Date) {
            self.count = count
            self.lastObservedTime = lastObservedTime
        }
        enum CodingKeys: String, CodingKey { case count, lastObservedTime }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            count = try c.decodeIfPresent(Int32.self, forKey: .count) ?? 0
            lastObservedTime = try c.decodeTime(forKey: .lastObservedTime) ?? Date(timeIntervalSince1970: 0)
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(count, forKey: .count)
            try c.encodeMicroTime(lastObservedTime, forKey: .lastObservedTime)
        }
    }

    public static let resource = ResourceDescriptor.events
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var eventTime: Date?
    public var series: Series?
    public var reportingController: String?
    public var reportingInstance: String?
    public var action: String?
    public var reason: String?
    public var regarding: ObjectReference?
    public var related: ObjectReference?
    public var note: String?
    /// `Normal` or `Warning`.
    public var type: String?
    public var deprecatedCount: Int32?
    public var deprecatedFirstTimestamp: Date?
    public var deprecatedLastTimestamp: Date?

    public init(
        metadata: ObjectMeta, eventTime: Date, reportingController: String, reportingInstance: String,
        action: String, reason: String, regarding: ObjectReference, note: String? = nil, type: String = "Normal",
        series: Series? = nil, related: ObjectReference? = nil
    ) {
        apiVersion = Self.resource.apiVersion
        kind = Self.resource.kind
        self.metadata = metadata
        self.eventTime = eventTime
        self.reportingController = reportingController
        self.reportingInstance = reportingInstance
        self.action = action
        self.reason = reason
        self.regarding = regarding
        self.note = note
        self.type = type
        self.series = series
        self.related = related
    }

    enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, eventTime, series, reportingController, reportingInstance, action, reason
        case regarding, related, note, type, deprecatedCount, deprecatedFirstTimestamp, deprecatedLastTimestamp
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        eventTime = try c.decodeTime(forKey: .eventTime)
        series = try c.decodeIfPresent(Series.self, forKey: .series)
        reportingController = try c.decodeIfPresent(String.self, forKey: .reportingController)
        reportingInstance = try c.decodeIfPresent(String.self, forKey: .reportingInstance)
        action = try c.decodeIfPresent(String.self, forKey: .action)
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        regarding = try c.decodeIfPresent(ObjectReference.self, forKey: .regarding)
        related = try c.decodeIfPresent(ObjectReference.self, forKey: .related)
        note = try c.decodeIfPresent(String.self, forKey: .note)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        deprecatedCount = try c.decodeIfPresent(Int32.self, forKey: .deprecatedCount)
        deprecatedFirstTimestamp = try c.decodeTime(forKey: .deprecatedFirstTimestamp)
        deprecatedLastTimestamp = try c.decodeTime(forKey: .deprecatedLastTimestamp)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(apiVersion, forKey: .apiVersion)
        try c.encodeIfPresent(kind, forKey: .kind)
        try c.encode(metadata, forKey: .metadata)
        try c.encodeMicroTime(eventTime, forKey: .eventTime)
        try c.encodeIfPresent(series, forKey: .series)
        try c.encodeIfPresent(reportingController, forKey: .reportingController)
        try c.encodeIfPresent(reportingInstance, forKey: .reportingInstance)
        try c.encodeIfPresent(action, forKey: .action)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encodeIfPresent(regarding, forKey: .regarding)
        try c.encodeIfPresent(related, forKey: .related)
        try c.encodeIfPresent(note, forKey: .note)
        try c.encodeIfPresent(type, forKey: .type)
        try c.encodeIfPresent(deprecatedCount, forKey: .deprecatedCount)
        try c.encodeTime(deprecatedFirstTimestamp, forKey: .deprecatedFirstTimestamp)
        try c.encodeTime(deprecatedLastTimestamp, forKey: .deprecatedLastTimestamp)
    }
}
