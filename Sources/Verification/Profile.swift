/// Which columns are an ETL tool's own, and how it marks a deleted row, so that the live view is compared.
///
/// Sources:
/// - Fivetran: https://fivetran.com/docs/core-concepts/system-columns-and-tables (`_fivetran_synced`,
///   `_fivetran_deleted` boolean, `_fivetran_index`, `_fivetran_id`; with history mode `_fivetran_active`
///   boolean, `_fivetran_start`, `_fivetran_end`).
/// - Airbyte: https://docs.airbyte.com/understanding-airbyte/airbyte-metadata-fields (`_airbyte_raw_id`,
///   `_airbyte_generation_id`, `_airbyte_extracted_at`, `_airbyte_loaded_at`, `_airbyte_meta`) and
///   https://docs.airbyte.com/understanding-airbyte/cdc (`_ab_cdc_updated_at`, `_ab_cdc_deleted_at`
///   non-null = deleted, `_ab_cdc_log_file`, `_ab_cdc_log_pos`).
/// - Hevo: https://docs.hevodata.com/advanced-concepts/introduction-to-hevo_id (`__hevo_id`); the
///   soft-delete flag `__hevo__marked_deleted` and the other `__hevo` columns as the issue describes
///   them (the docs spell them two ways, so every `__hevo` prefix is metadata).
/// - Debezium's New Record State Extraction (unwrap):
///   https://debezium.io/documentation/reference/stable/transformations/event-flattening.html
///   (`delete.handling.mode=rewrite` adds `__deleted` = the string "true"/"false"; `add.fields` adds
///   `__op`, `__source_ts_ms`, `__table`, `__lsn`, ... with the `__` prefix).
/// - Singer: https://github.com/singer-io/getting-started/blob/master/docs/SYNC_MODE.md and the
///   targets' `_sdc_` columns (`_sdc_extracted_at`, `_sdc_received_at`, `_sdc_batched_at`,
///   `_sdc_deleted_at` present = deleted, `_sdc_sequence`, `_sdc_table_version`).
public enum Profile: String, Sendable, Hashable, Codable, CaseIterable {
    case none, auto, hevo, fivetran, airbyte, debezium, singer

    /// Whether `column` (any case) is the tool's own.
    public func isMetadata(_ column: String) -> Bool {
        let name = column.lowercased()
        switch self {
        case .none, .auto: return false
        case .hevo: return name.hasPrefix("__hevo")
        case .fivetran: return name.hasPrefix("_fivetran_")
        case .airbyte: return name.hasPrefix("_airbyte_") || name.hasPrefix("_ab_cdc_")
        case .debezium: return name.hasPrefix("__")
        case .singer: return name.hasPrefix("_sdc_")
        }
    }

    /// Change-log files are the natural output of these tools' file targets.
    public var impliesChangeLog: Bool { self == .singer || self == .debezium }

    /// The profile whose columns a destination table (or file) has, for `auto`.
    public static func detect(columns: [String]) -> Profile {
        let names = columns.map { $0.lowercased() }
        if names.contains(where: { $0.hasPrefix("_fivetran_") }) { return .fivetran }
        if names.contains(where: { $0.hasPrefix("_airbyte_") || $0.hasPrefix("_ab_cdc_") }) { return .airbyte }
        if names.contains(where: { $0.hasPrefix("__hevo") }) { return .hevo }
        if names.contains(where: { $0.hasPrefix("_sdc_") }) { return .singer }
        if names.contains("__deleted") || names.contains("__op") { return .debezium }
        return .none
    }

    /// The columns that decide whether a row is live, among `columns`.
    public func markerColumns(in columns: [String]) -> [String] {
        let wanted: [String]
        switch self {
        case .none, .auto: wanted = []
        case .hevo: wanted = ["__hevo__marked_deleted"]
        case .fivetran: wanted = ["_fivetran_deleted", "_fivetran_active"]
        case .airbyte: wanted = ["_ab_cdc_deleted_at"]
        case .debezium: wanted = ["__deleted", "__op"]
        case .singer: wanted = ["_sdc_deleted_at"]
        }
        return columns.filter { wanted.contains($0.lowercased()) }
    }

    /// Whether a row is live, given its marker values by lower-case column name (absent = NULL).
    public func isLive(markers: [String: String?]) -> Bool {
        func value(_ name: String) -> String? { markers[name] ?? nil }
        switch self {
        case .none, .auto:
            return true
        case .hevo:
            return !Profile.isTrue(value("__hevo__marked_deleted"))
        case .fivetran:
            if markers.keys.contains("_fivetran_active") { return Profile.isTrue(value("_fivetran_active")) }
            return !Profile.isTrue(value("_fivetran_deleted"))
        case .airbyte:
            return value("_ab_cdc_deleted_at") == nil
        case .debezium:
            return value("__deleted")?.lowercased() != "true" && value("__op") != "d"
        case .singer:
            return value("_sdc_deleted_at") == nil
        }
    }

    static func isTrue(_ text: String?) -> Bool {
        guard let text else { return false }
        return ["t", "true", "1", "yes", "y"].contains(text.lowercased())
    }
}
