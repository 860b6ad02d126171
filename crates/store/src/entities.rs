//! sea-orm entities, one module per table of `migrations/`. Plain data: the rules
//! live in `jiaxiao-domain`, the queries in this crate's area modules.

pub mod org_unit {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "org_unit")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub parent_id: Option<i64>,
        pub kind: String,
        pub name: String,
        pub code: Option<String>,
        pub school_type: Option<String>,
        pub grade_level: Option<i32>,
        pub class_number: Option<i32>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod org_closure {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "org_closure")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub ancestor_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub descendant_id: i64,
        pub depth: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub valid_from: String,
        pub valid_to: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod school_year {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "school_year")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub starts_on: String,
        pub ends_on: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod pupil {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "pupil")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub school_id: i64,
        pub student_no: String,
        pub name: String,
        pub name_pinyin: String,
        pub name_initials: String,
        pub gender: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod class_membership {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "class_membership")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub pupil_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub school_year_id: i64,
        pub class_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod guardian {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "guardian")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub name_pinyin: String,
        pub name_initials: String,
        pub phone: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod guardianship {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "guardianship")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub guardian_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub pupil_id: i64,
        pub relation: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod staff {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "staff")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub unit_id: i64,
        pub name: String,
        pub name_pinyin: String,
        pub name_initials: String,
        pub phone: Option<String>,
        pub position: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod user_account {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "user_account")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub username: Option<String>,
        pub phone: Option<String>,
        pub display_name: String,
        pub password_hash: Option<String>,
        pub staff_id: Option<i64>,
        pub guardian_id: Option<i64>,
        pub active: bool,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod role_grant {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "role_grant")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub role: String,
        pub unit_id: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod web_session {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "web_session")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: i64,
        pub csrf_token: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod api_token {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "api_token")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub name: String,
        pub token_hash: String,
        pub created_at: DateTimeUtc,
        pub revoked: bool,
        /// Empty only for tokens made before expiry existed (migration 0006).
        pub expires_at: Option<DateTimeUtc>,
        pub last_used_at: Option<DateTimeUtc>,
        /// What the token may do (`jiaxiao_domain::api::ApiScope` codes, space-separated);
        /// empty for the account's whole reach (migration 0010).
        pub scopes: Option<String>,
        /// The unit the token is limited to, within its user's reach.
        pub unit_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod invitation {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "invitation")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub guardian_id: i64,
        pub code_hash: String,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub used_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sms_outbox {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "sms_outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub phone: String,
        pub body: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_log {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub at: DateTimeUtc,
        pub actor_user_id: Option<i64>,
        pub unit_id: Option<i64>,
        pub entity: String,
        pub entity_id: Option<String>,
        pub action: String,
        pub before_json: Option<String>,
        pub after_json: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod import_job {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "import_job")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub unit_id: i64,
        pub created_by: Option<i64>,
        pub file_name: String,
        pub status: String,
        pub total: i32,
        pub done: i32,
        pub result_json: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub school_year_id: Option<i64>,
        pub payload: Option<String>,
        pub claimed_by: Option<String>,
        pub claimed_at: Option<DateTimeUtc>,
        pub kind: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod parent_school_settings {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "parent_school_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub school_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub school_year_id: i64,
        pub settings_json: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod committee {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "committee")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub school_id: i64,
        pub school_year_id: i64,
        pub unit_id: i64,
        pub kind: String,
        pub name: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod committee_member {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "committee_member")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub committee_id: i64,
        pub position: String,
        pub staff_id: Option<i64>,
        pub guardian_id: Option<i64>,
        pub note: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod topic {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "topic")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub school_id: i64,
        pub ordinal: i32,
        pub title: String,
        pub description: Option<String>,
        pub active: bool,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod course {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "course")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub school_id: i64,
        pub school_year_id: i64,
        pub topic_id: i64,
        pub grade_level: i32,
        pub semester: i32,
        pub title: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod activity {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "activity")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub school_id: i64,
        pub school_year_id: i64,
        pub theme: String,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub place: String,
        pub participants: String,
        pub organiser: String,
        pub venue_notes: Option<String>,
        pub survey_ref: Option<String>,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod activity_item {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "activity_item")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub activity_id: i64,
        pub ordinal: i32,
        pub part: String,
        pub title: String,
        pub speaker: Option<String>,
        pub starts_at: Option<DateTimeUtc>,
        pub session_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod activity_duty {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "activity_duty")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub activity_id: i64,
        pub ordinal: i32,
        pub person: String,
        pub duty: String,
        pub place: Option<String>,
        pub time_text: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod teaching_session {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "teaching_session")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub school_id: i64,
        pub school_year_id: i64,
        pub course_id: Option<i64>,
        pub topic_id: Option<i64>,
        pub activity_id: Option<i64>,
        pub title: String,
        pub form: String,
        pub starts_at: DateTimeUtc,
        pub duration_minutes: i32,
        pub place: Option<String>,
        pub online_url: Option<String>,
        pub instructor_staff_id: Option<i64>,
        pub instructor_name: String,
        pub instructor_title: Option<String>,
        pub instructor_org: Option<String>,
        pub audience: String,
        pub capacity: Option<i32>,
        pub status: String,
        pub lesson_plan: Option<String>,
        pub lesson_plan_at: Option<DateTimeUtc>,
        pub summary: Option<String>,
        pub summary_at: Option<DateTimeUtc>,
        pub checkin_secret: String,
        pub opens_before_minutes: i32,
        pub closes_after_minutes: i32,
        pub late_after_minutes: i32,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
        /// Counts the writes (migration 0010): an API update that names an older one is
        /// refused. Dumps made before it read as 1.
        #[serde(default = "super::first_version")]
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod session_audience {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "session_audience")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod session_invitee {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "session_invitee")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub guardian_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod checkin {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "checkin")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub session_id: i64,
        pub guardian_id: i64,
        pub status: String,
        pub method: String,
        pub checked_at: DateTimeUtc,
        pub recorded_by: Option<i64>,
        pub device_hash: Option<String>,
        pub nonce: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod checkin_refusal {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "checkin_refusal")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub session_id: i64,
        pub guardian_id: Option<i64>,
        pub reason: String,
        pub device_hash: Option<String>,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod paper_sheet {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "paper_sheet")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub session_id: i64,
        pub class_id: i64,
        pub code: String,
        pub printed_at: DateTimeUtc,
        pub scan_attachment_id: Option<i64>,
        pub entered_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod paper_mark {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "paper_mark")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub sheet_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub guardian_id: i64,
        pub status: String,
        pub resolution: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod attachment {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "attachment")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub school_id: i64,
        pub session_id: Option<i64>,
        pub kind: String,
        pub file_name: String,
        pub content_type: String,
        pub size_bytes: i64,
        pub storage_key: String,
        pub uploaded_by: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod reflection {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "reflection")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub session_id: i64,
        pub guardian_id: i64,
        pub body: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod excellence_round {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "excellence_round")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub school_id: i64,
        pub school_year_id: i64,
        pub rule_json: String,
        pub status: String,
        pub notice_from: Option<String>,
        pub notice_to: Option<String>,
        pub seal_attachment_id: Option<i64>,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod excellence_nominee {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "excellence_nominee")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub round_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub guardian_id: i64,
        pub reason_json: String,
        pub decision: String,
        pub certificate_no: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod excellence_objection {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "excellence_objection")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub round_id: i64,
        pub guardian_id: i64,
        pub body: String,
        pub raised_by: Option<i64>,
        pub resolution: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod school_year_reopened {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "school_year_reopened")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub school_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub school_year_id: i64,
        pub reopened_by: Option<i64>,
        pub reopened_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhook {
    use sea_orm::entity::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
    #[sea_orm(table_name = "webhook")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub unit_id: i64,
        pub url: String,
        pub secret: String,
        pub events: String,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The version a row has before its first counted write (and in dumps older than it).
fn first_version() -> i64 {
    1
}
