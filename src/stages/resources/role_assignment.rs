//! `Microsoft.Authorization/roleAssignments` with deterministic names: UUID v5 of
//! (scope, role definition ID, principal key), so re-runs find the same
//! assignment instead of failing with `RoleAssignmentExists`.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, Input, Reference, ResourceSpec, Stage};
use crate::stages::{Ids, StageError};
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Authorization/roleAssignments";

/// Key Vault Secrets User.
pub const KEY_VAULT_SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";

/// PUT body of a role assignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleAssignment {
    /// Properties.
    pub properties: RoleAssignmentProperties,
}

/// `properties` of a role assignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentProperties {
    /// Full role definition ID.
    pub role_definition_id: String,
    /// Principal (object) ID.
    pub principal_id: Input<String>,
    /// `ServicePrincipal`, `User`, `Group`: set so ARM does not have to look the
    /// principal up (which fails right after an identity is created).
    pub principal_type: String,
}

/// Who gets a role.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The principal ID, or a reference to it.
    pub id: Input<String>,
    /// What the deterministic name is derived from: the principal ID when known,
    /// else the address of the resource that will have it.
    pub key: String,
    /// `ServicePrincipal`, `User`, `Group`.
    pub principal_type: String,
}

impl Principal {
    /// The system-assigned identity of `address` (`/identity/principalId`).
    pub fn system_identity(address: &str) -> Self {
        Principal {
            id: Input::Ref(Reference::new(address, "/identity/principalId")),
            key: address.to_string(),
            principal_type: "ServicePrincipal".into(),
        }
    }

    /// A user-assigned identity resource (`/properties/principalId`).
    pub fn user_identity(address: &str) -> Self {
        Principal {
            id: Input::Ref(Reference::new(address, "/properties/principalId")),
            key: address.to_string(),
            principal_type: "ServicePrincipal".into(),
        }
    }

    /// A principal whose object ID is known.
    pub fn known(object_id: &str, principal_type: &str) -> Self {
        Principal {
            id: Input::Known(object_id.to_string()),
            key: object_id.to_string(),
            principal_type: principal_type.to_string(),
        }
    }
}

/// Comparison rules: nothing of an assignment can change (its name is derived
/// from its content, so a change is a different assignment). The role
/// definition is compared by its GUID: ARM answers the tenant-level form
/// `/providers/Microsoft.Authorization/roleDefinitions/{guid}` for the
/// subscription form we send.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/properties/principalType"]),
        unscoped_ids: super::paths(&["/properties/roleDefinitionId"]),
        immutable: super::paths(&["/properties/roleDefinitionId", "/properties/principalId"]),
        ..DiffRules::default()
    }
}

/// The spec of the assignment of `role_guid` to `principal` at `scope`. Its
/// address is [`Ids::role_assignment`]; it depends on `scope` (and, through the
/// reference, on the identity).
pub fn spec(
    scope: &str,
    role_guid: &str,
    principal: Principal,
    label: &str,
    stage: Stage,
) -> Result<ResourceSpec, StageError> {
    let role_definition_id = Ids::role_definition(scope, role_guid);
    let address = Ids::role_assignment(scope, &role_definition_id, &principal.key);
    let body = RoleAssignment {
        properties: RoleAssignmentProperties {
            role_definition_id,
            principal_id: principal.id,
            principal_type: principal.principal_type,
        },
    };
    let at = Placement::new(address, label, stage).after(scope);
    arm_spec(at, TYPE, &body, rules(), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::diff::compare;
    use serde_json::json;

    const SCOPE: &str = "/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2/resourceGroups/testrg";

    fn desired() -> serde_json::Value {
        let principal = Principal::known("ce2ce14e-85d7-4629-bdbc-454d0519d987", "User");
        let s = spec(
            SCOPE,
            KEY_VAULT_SECRETS_USER,
            principal,
            "test assignment",
            Stage::Spoke,
        )
        .expect("spec builds");
        s.body
    }

    fn live(role_definition_id: &str) -> serde_json::Value {
        json!({
            "properties": {
                "roleDefinitionId": role_definition_id,
                "principalId": "ce2ce14e-85d7-4629-bdbc-454d0519d987",
                "principalType": "User",
                "scope": SCOPE
            }
        })
    }

    #[test]
    fn role_definition_forms_are_the_same_role() {
        let g = KEY_VAULT_SECRETS_USER;
        for form in [
            format!("/providers/Microsoft.Authorization/roleDefinitions/{g}"),
            format!(
                "/providers/microsoft.authorization/roledefinitions/{}",
                g.to_uppercase()
            ),
            format!(
                "/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2/providers/Microsoft.Authorization/roleDefinitions/{g}"
            ),
            format!(
                "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/{g}"
            ),
        ] {
            let d = compare(&desired(), Some(&live(&form)), &rules());
            assert!(d.is_empty(), "{form}: {d:?}");
        }
    }

    #[test]
    fn another_role_is_a_replacement() {
        let other = "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7";
        let d = compare(&desired(), Some(&live(other)), &rules());
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].path, "/properties/roleDefinitionId");
        assert!(d[0].forces_replacement);
    }
}
