//! The single table of pinned API versions: one per resource type. Every version
//! here exists in `../shared/arm-schemas/` (a test checks it).
//!
//! Adding a resource type means one typed builder file in `stages::resources`
//! and one line here.

/// `(resource type, api-version)`, resource types in ARM's canonical casing.
pub const API_VERSIONS: &[(&str, &str)] = &[
    ("Microsoft.Resources/resourceGroups", "2024-11-01"),
    // Network: 2024-05-01 (the version of most of the REST examples).
    ("Microsoft.Network/networkSecurityGroups", "2024-05-01"),
    ("Microsoft.Network/routeTables", "2024-05-01"),
    ("Microsoft.Network/virtualNetworks", "2024-05-01"),
    (
        "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
        "2024-05-01",
    ),
    ("Microsoft.Network/publicIPAddresses", "2024-05-01"),
    ("Microsoft.Network/privateEndpoints", "2024-05-01"),
    (
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
        "2024-05-01",
    ),
    ("Microsoft.Network/privateDnsZones", "2024-06-01"),
    (
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        "2024-06-01",
    ),
    ("Microsoft.OperationalInsights/workspaces", "2025-02-01"),
    ("Microsoft.Insights/components", "2020-02-02"),
    // APIM: 2024-06-01-preview or later for LLM diagnostics.
    ("Microsoft.ApiManagement/service", "2024-06-01-preview"),
    (
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "2023-01-31",
    ),
    ("Microsoft.KeyVault/vaults", "2024-11-01"),
    ("Microsoft.KeyVault/vaults/secrets", "2024-11-01"),
    ("Microsoft.Storage/storageAccounts", "2025-01-01"),
    (
        "Microsoft.Storage/storageAccounts/fileServices/shares",
        "2025-01-01",
    ),
    // PostgreSQL: 2025-08-01 accepts versions 17 and 18 as well as 16.
    ("Microsoft.DBforPostgreSQL/flexibleServers", "2025-08-01"),
    (
        "Microsoft.DBforPostgreSQL/flexibleServers/databases",
        "2025-08-01",
    ),
    ("Microsoft.CognitiveServices/accounts", "2025-06-01"),
    (
        "Microsoft.CognitiveServices/accounts/deployments",
        "2025-06-01",
    ),
    ("Microsoft.Authorization/roleAssignments", "2022-04-01"),
    // Container Apps: 2025-07-01 is the first GA version with the environment's
    // `publicNetworkAccess`.
    ("Microsoft.App/managedEnvironments", "2025-07-01"),
    ("Microsoft.App/managedEnvironments/storages", "2025-07-01"),
    (
        "Microsoft.App/managedEnvironments/certificates",
        "2025-07-01",
    ),
    ("Microsoft.App/containerApps", "2025-07-01"),
    // finalize stage
    (
        "Microsoft.ApiManagement/service/namedValues",
        "2024-06-01-preview",
    ),
    (
        "Microsoft.ApiManagement/service/backends",
        "2024-06-01-preview",
    ),
    (
        "Microsoft.ApiManagement/service/products",
        "2024-06-01-preview",
    ),
    (
        "Microsoft.ApiManagement/service/products/apis",
        "2024-06-01-preview",
    ),
    ("Microsoft.ApiManagement/service/apis", "2024-06-01-preview"),
    (
        "Microsoft.ApiManagement/service/apis/policies",
        "2024-06-01-preview",
    ),
    (
        "Microsoft.ApiManagement/service/apis/diagnostics",
        "2024-06-01-preview",
    ),
    (
        "Microsoft.ApiManagement/service/loggers",
        "2024-06-01-preview",
    ),
    (
        "Microsoft.Insights/diagnosticSettings",
        "2021-05-01-preview",
    ),
    ("Microsoft.Network/privateDnsZones/A", "2024-06-01"),
    ("Microsoft.Network/applicationGateways", "2024-05-01"),
];

/// The pinned API version of `type_name` (compared case-insensitively).
pub fn api_version(type_name: &str) -> Option<&'static str> {
    API_VERSIONS
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(type_name))
        .map(|(_, v)| *v)
}
