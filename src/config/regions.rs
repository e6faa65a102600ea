//! Azure region names per cloud, and location normalisation (`UK South` -> `uksouth`).

use crate::config::model::NamedCloud;

/// Public Azure regions (programmatic names), including the EUAP canary regions.
pub const PUBLIC_REGIONS: &[&str] = &[
    "australiacentral",
    "australiacentral2",
    "australiaeast",
    "australiasoutheast",
    "austriaeast",
    "belgiumcentral",
    "brazilsouth",
    "brazilsoutheast",
    "canadacentral",
    "canadaeast",
    "centralindia",
    "centralus",
    "centraluseuap",
    "chilecentral",
    "eastasia",
    "eastus",
    "eastus2",
    "eastus2euap",
    "francecentral",
    "francesouth",
    "germanynorth",
    "germanywestcentral",
    "indonesiacentral",
    "israelcentral",
    "italynorth",
    "japaneast",
    "japanwest",
    "jioindiacentral",
    "jioindiawest",
    "koreacentral",
    "koreasouth",
    "malaysiawest",
    "mexicocentral",
    "newzealandnorth",
    "northcentralus",
    "northeurope",
    "norwayeast",
    "norwaywest",
    "polandcentral",
    "qatarcentral",
    "southafricanorth",
    "southafricawest",
    "southcentralus",
    "southeastasia",
    "southindia",
    "spaincentral",
    "swedencentral",
    "swedensouth",
    "switzerlandnorth",
    "switzerlandwest",
    "uaecentral",
    "uaenorth",
    "uksouth",
    "ukwest",
    "westcentralus",
    "westeurope",
    "westindia",
    "westus",
    "westus2",
    "westus3",
];

/// Azure US Government regions.
pub const US_GOVERNMENT_REGIONS: &[&str] = &[
    "usdodcentral",
    "usdodeast",
    "usgovarizona",
    "usgovtexas",
    "usgovvirginia",
];

/// Azure China (21Vianet) regions.
pub const CHINA_REGIONS: &[&str] = &[
    "chinaeast",
    "chinaeast2",
    "chinaeast3",
    "chinanorth",
    "chinanorth2",
    "chinanorth3",
];

/// Normalises a location the way ARM does: lower case, white space removed
/// (`"UK South"` -> `"uksouth"`, `"East US 2"` -> `"eastus2"`).
pub fn normalize_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The regions a named cloud knows; the sandbox accepts the public list.
pub fn regions_of(cloud: NamedCloud) -> &'static [&'static str] {
    match cloud {
        NamedCloud::AzureCloud | NamedCloud::Sandbox => PUBLIC_REGIONS,
        NamedCloud::AzureUSGovernment => US_GOVERNMENT_REGIONS,
        NamedCloud::AzureChinaCloud => CHINA_REGIONS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_display_names() {
        assert_eq!(normalize_location("UK South"), "uksouth");
        assert_eq!(normalize_location("East US 2"), "eastus2");
        assert_eq!(normalize_location(" westeurope "), "westeurope");
    }

    #[test]
    fn lists_are_sorted_normalised_and_unique() {
        for list in [PUBLIC_REGIONS, US_GOVERNMENT_REGIONS, CHINA_REGIONS] {
            for pair in list.windows(2) {
                assert!(pair[0] < pair[1], "{} before {}", pair[0], pair[1]);
            }
            for r in list {
                assert_eq!(&normalize_location(r), r);
            }
        }
    }
}
