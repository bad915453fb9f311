//! Record ids: UUIDv7, time-ordered, one type per kind of record.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Rule, StoreError};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh id (UUIDv7: later ids sort after earlier ones).
            pub fn generate() -> Self {
                $name(Uuid::now_v7())
            }

            /// The id as a UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                $name(uuid)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = StoreError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text).map($name).map_err(|_| {
                    StoreError::invalid(
                        Rule::BadInput,
                        format!("`{text}` is not a {} id (a UUID)", $what),
                    )
                })
            }
        }
    };
}

id_type!(
    /// The id of a production.
    ProductionId, "production"
);
id_type!(
    /// The id of a registered tool.
    ToolId, "tool"
);
id_type!(
    /// The id of a registered performer.
    PerformerId, "performer"
);
id_type!(
    /// The id of a consent.
    ConsentId, "consent"
);
id_type!(
    /// The id of a declaration (shared by all its versions).
    DeclarationId, "declaration"
);
id_type!(
    /// The id of a decision.
    DecisionId, "decision"
);
id_type!(
    /// The id of an approval or rejection.
    ApprovalId, "approval"
);
id_type!(
    /// The id of a notification.
    NotificationId, "notification"
);
id_type!(
    /// The id of a recorded delivery scan.
    ScanId, "scan"
);
id_type!(
    /// The id of a stamp: an approval signed into a file's Content Credentials.
    StampId, "stamp"
);
id_type!(
    /// The id of a reviewer's request for changes.
    ChangeRequestId, "change request"
);
id_type!(
    /// The id of a draft of the declare form.
    DraftId, "draft"
);

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing test stops at the error")]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_creation_order_and_parse_back() {
        let a = DeclarationId::generate();
        let b = DeclarationId::generate();
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
        assert_eq!(a.to_string().parse::<DeclarationId>().unwrap(), a);
        assert!("nope".parse::<DeclarationId>().is_err());
    }
}
