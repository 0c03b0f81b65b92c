import KubeCore

/// The metadata checks the API server applies to every write (apimachinery `ValidateObjectMeta`): the name's
/// format for the resource, and label keys and values. Problems become 422 Invalid causes.
public enum ObjectMetaValidation {
    static let subdomainHelp = LabelSelector.dnsSubdomainHelp
    static let labelHelp =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
        + "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1035Help =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
        + "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
        + "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

    /// How a resource's names are validated.
    public enum NameRule: Sendable {
        case subdomain, label, dns1035
    }

    /// The rule of a resource: namespaces are RFC 1123 labels, services DNS-1035 labels, the rest subdomains.
    public static func nameRule(for resource: ResourceDescriptor) -> NameRule {
        switch (resource.group, resource.resource) {
        case ("", "namespaces"): return .label
        case ("", "services"): return .dns1035
        default: return .subdomain
        }
    }

    /// The causes of an invalid `metadata` (empty when it is valid). The name is only checked when present
    /// (a missing name is reported by the caller, which knows about generateName).
    public static func validate(_ object: JSONValue, resource: ResourceDescriptor) -> [APIStatus.Cause] {
        var causes: [APIStatus.Cause] = []
        if let name = object[path: ["metadata", "name"]]?.stringValue, !name.isEmpty,
            let problem = nameProblem(name, rule: nameRule(for: resource))
        {
            causes.append(.init(type: "FieldValueInvalid", message: "Invalid value: \"\(name)\": \(problem)",
                field: "metadata.name"))
        }
        for (key, value) in (object[path: ["metadata", "labels"]]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let problem = LabelSelector.keyProblem(key) {
                causes.append(.init(type: "FieldValueInvalid", message: "Invalid value: \"\(key)\": \(problem)",
                    field: "metadata.labels"))
            }
            guard let text = value.stringValue else {
                causes.append(.init(type: "FieldValueTypeInvalid",
                    message: "Invalid value: \(value.serialized()): label values must be strings",
                    field: "metadata.labels[\(key)]"))
                continue
            }
            if let problem = LabelSelector.valueProblem(text) {
                causes.append(.init(type: "FieldValueInvalid", message: "Invalid value: \"\(text)\": \(problem)",
                    field: "metadata.labels"))
            }
        }
        let annotationBytes = (object[path: ["metadata", "annotations"]]?.objectValue ?? [:]).reduce(0) {
            $0 + $1.key.utf8.count + ($1.value.stringValue?.utf8.count ?? 0)
        }
        if annotationBytes > 262_144 {
            causes.append(.init(type: "FieldValueTooLong",
                message: "Too long: must have at most 262144 bytes", field: "metadata.annotations"))
        }
        return causes
    }

    /// Why `name` breaks `rule`, or nil.
    public static func nameProblem(_ name: String, rule: NameRule) -> String? {
        let bytes = Array(name.utf8)
        func isLowerAlnum(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
        func isLabel(_ part: ArraySlice<UInt8>, firstLetter: Bool) -> Bool {
            guard let first = part.first, let last = part.last else { return false }
            guard firstLetter ? (first >= 97 && first <= 122) : isLowerAlnum(first), isLowerAlnum(last) else {
                return false
            }
            return part.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
        }
        switch rule {
        case .subdomain:
            if bytes.count > 253 { return "must be no more than 253 characters" }
            let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
            return parts.allSatisfy { isLabel($0, firstLetter: false) } ? nil : subdomainHelp
        case .label:
            if bytes.count > 63 { return "must be no more than 63 characters" }
            return isLabel(bytes[...], firstLetter: false) ? nil : labelHelp
        case .dns1035:
            if bytes.count > 63 { return "must be no more than 63 characters" }
            return isLabel(bytes[...], firstLetter: true) ? nil : dns1035Help
        }
    }
}
