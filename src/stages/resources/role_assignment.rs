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
/// from its content, so a change is a different assignment).
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&[
            "/properties/roleDefinitionId",
            "/properties/principalType",
        ]),
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
