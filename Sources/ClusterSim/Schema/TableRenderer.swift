import Foundation
import KubeCore

/// Server-side `Table` output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) for built-in kinds
/// (the columns kubectl shows on a real cluster) and for custom resources (the CRD's printer columns).
public enum TableRenderer {
    /// Renders `objects` as a `meta.k8s.io/v1` Table. `printerColumns` is the CRD version's
    /// `additionalPrinterColumns` (nil for built-ins); `includeObject` is `None`, `Metadata` (default) or `Object`.
    public static func table(
        resource: ResourceDescriptor, printerColumns: JSONValue?, objects: [JSONValue], resourceVersion: String,
        includeObject: String, now: Date
    ) -> JSONValue {
        let printer: TablePrinter
        if let printerColumns, !printerColumns.isNull {
            printer = customResourcePrinter(printerColumns)
        } else {
            printer = BuiltinPrinters.printer(for: resource)
        }
        let rows: [JSONValue] = objects.map { object in
            var row: [String: JSONValue] = ["cells": .array(printer.cells(object, now))]
            switch includeObject {
            case "None": break
            case "Object": row["object"] = object
            default: row["object"] = partialObjectMetadata(object)
            }
            return .object(row)
        }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": ["resourceVersion": .string(resourceVersion)],
            "columnDefinitions": .array(printer.columns.map(\.json)),
            "rows": .array(rows),
        ]
    }

    /// `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{...}}`.
    public static func partialObjectMetadata(_ object: JSONValue) -> JSONValue {
        [
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": object["metadata"] ?? .object([:]),
        ]
    }

    // MARK: - Custom resources

    /// `Name` plus the CRD's `additionalPrinterColumns`, or `Name` + `Age` when the CRD declares none.
    static func customResourcePrinter(_ printerColumns: JSONValue) -> TablePrinter {
        var specs = (printerColumns.arrayValue ?? []).compactMap { c -> (TableColumn, JSONPath?)? in
            guard let name = c["name"]?.stringValue else { return nil }
            let column = TableColumn(
                name, type: c["type"]?.stringValue ?? "string", format: c["format"]?.stringValue ?? "",
                priority: Int(c["priority"]?.intValue ?? 0), description: c["description"]?.stringValue ?? "")
            return (column, c["jsonPath"]?.stringValue.flatMap { try? JSONPath($0) })
        }
        if specs.isEmpty {
            specs = [
                (
                    TableColumn("Age", type: "date", description: TableColumn.creationTimestampDoc),
                    try? JSONPath(".metadata.creationTimestamp")
                )
            ]
        }
        let columns = [TableColumn.name] + specs.map(\.0)
        let columnSpecs = specs
        return TablePrinter(columns: columns) { object, now in
            var cells: [JSONValue] = [.string(object[path: ["metadata", "name"]]?.stringValue ?? "")]
            for (column, path) in columnSpecs {
                guard let path, let value = path.firstValue(in: object) else {
                    cells.append(.null)
                    continue
                }
                cells.append(cell(type: column.type, value: value, now: now))
            }
            return cells
        }
    }

    /// apiextensions' `cellForJSONValue`: typed cells, human ages for dates, null for a type mismatch.
    static func cell(type: String, value: JSONValue, now: Date) -> JSONValue {
        switch (type, value) {
        case (_, .null): return .null
        case ("integer", .int): return value
        case ("integer", .double(let d)): return d.isFinite && abs(d) < 9.2e18 ? .int(Int64(d)) : .null
        case ("number", .int(let i)): return .double(Double(i))
        case ("number", .double): return value
        case ("boolean", .bool): return value
        case ("date", .string(let s)):
            guard let date = KubeTime.parse(s) else { return "<invalid>" }
            return .string(KubeTime.humanAge(now.timeIntervalSince(date)))
        case ("string", .string): return value
        case ("string", .int), ("string", .double), ("string", .bool): return .string(value.serialized())
        case ("string", .array), ("string", .object): return .string(value.serialized())
        default: return .null
        }
    }
}

/// One `columnDefinitions` entry of a Table.
struct TableColumn: Sendable {
    var name: String
    var type: String
    var format: String
    var description: String
    var priority: Int

    init(_ name: String, type: String = "string", format: String = "", priority: Int = 0, description: String) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
    }

    var json: JSONValue {
        [
            "name": .string(name), "type": .string(type), "format": .string(format),
            "description": .string(description), "priority": .int(Int64(priority)),
        ]
    }

    static let nameDoc =
        "Name must be unique within a namespace. Is required when creating resources, although some resources "
        + "may allow a client to request the generation of an appropriate name automatically. Name is primarily "
        + "intended for creation idempotence and configuration definition. Cannot be updated. More info: "
        + "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
    static let creationTimestampDoc =
        "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
        + "guaranteed to be set in happens-before order across separate operations. Clients may not set this "
        + "value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null "
        + "for lists. More info: "
        + "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"

    static let name = TableColumn("Name", format: "name", description: nameDoc)
    /// Built-in printers show Age as a pre-rendered string column.
    static let age = TableColumn("Age", description: creationTimestampDoc)
}

/// Column definitions plus the function that turns one object into its row cells.
struct TablePrinter: Sendable {
    var columns: [TableColumn]
    var cells: @Sendable (JSONValue, Date) -> [JSONValue]
}
