//! Accounts and the authentication that turns a credential into a [`Scope`]: staff by
//! username + password, parents by phone + password (first set through a one-time
//! invitation code), server-side sessions and API bearer tokens. Secrets are stored
//! only as hashes: Argon2id for passwords, SHA-256 for random tokens and codes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{Duration, Utc};
use jiaxiao_domain::{PhoneNumber, Role, UnitKind};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, Set, Statement, Value,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{self, Entry};
use crate::entities::{
    api_token, guardian, invitation, role_grant, sms_outbox, user_account, web_session,
};
use crate::scope::Grant;
use crate::{Db, Scope, StoreError, StoreResult};

pub const SESSION_DAYS: i64 = 14;
pub const INVITATION_DAYS: i64 = 30;
pub const MIN_PASSWORD_LEN: usize = 8;

pub fn hash_password(password: &str) -> StoreResult<String> {
    let salt = SaltString::encode_b64(&rand::rng().random::<[u8; 16]>())
        .map_err(|e| StoreError::Other(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Other(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verifying against this when no account matches keeps the answer time the same,
/// so timing does not reveal whether an account exists.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("no such account, same work").unwrap_or_default())
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn random_token() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

fn check_password_rules(p: &str) -> StoreResult<()> {
    if p.chars().count() < MIN_PASSWORD_LEN {
        return Err(StoreError::Invalid {
            code: "password_too_short",
        });
    }
    Ok(())
}

/// Who is logged in, for page headers.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub user_id: i64,
    pub display_name: String,
    pub guardian_id: Option<i64>,
}

pub(crate) async fn scope_for_user<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    guardian_id: Option<i64>,
) -> StoreResult<Scope> {
    let grants = role_grant::Entity::find()
        .filter(role_grant::Column::UserId.eq(user_id))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|g| {
            Role::from_code(&g.role).map(|role| Grant {
                unit_id: g.unit_id,
                role,
            })
        })
        .collect();
    Ok(Scope::for_user(user_id, guardian_id, grants))
}

pub enum Login<'a> {
    Staff { username: &'a str },
    Parent { phone: &'a str },
}

/// Checks a password; `None` for a wrong password, an unknown account or an inactive
/// one alike.
pub async fn verify_login(db: &Db, login: Login<'_>, password: &str) -> StoreResult<Option<i64>> {
    let user = match login {
        Login::Staff { username } => {
            user_account::Entity::find()
                .filter(user_account::Column::Username.eq(username.trim()))
                .one(&db.conn)
                .await?
        }
        Login::Parent { phone } => match PhoneNumber::parse(phone) {
            Ok(p) => {
                user_account::Entity::find()
                    .filter(user_account::Column::Phone.eq(p.as_str()))
                    .one(&db.conn)
                    .await?
            }
            Err(_) => None,
        },
    };
    let password = password.to_owned();
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_owned());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| StoreError::Other(e.to_string()))?;
    Ok(user
        .filter(|u| ok && u.active && u.password_hash.is_some())
        .map(|u| u.id))
}

/// Starts a session; returns the cookie value (only its hash is stored).
pub async fn create_session(db: &Db, user_id: i64) -> StoreResult<String> {
    let token = random_token();
    let now = Utc::now();
    let txn = db.begin().await?;
    // Sessions of this account that ran out go now: no sweeper process is needed.
    web_session::Entity::delete_many()
        .filter(web_session::Column::UserId.eq(user_id))
        .filter(web_session::Column::ExpiresAt.lt(now))
        .exec(&txn)
        .await?;
    web_session::ActiveModel {
        id: Set(sha256_hex(&token)),
        user_id: Set(user_id),
        csrf_token: Set(random_token()),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(SESSION_DAYS)),
    }
    .insert(&txn)
    .await?;
    audit_own(&txn, user_id, "login").await?;
    txn.commit().await?;
    Ok(token)
}

/// An audit row for something a user did to their own account (log in, get a token).
async fn audit_own<C: ConnectionTrait>(conn: &C, user_id: i64, action: &str) -> StoreResult<()> {
    let me = Scope::for_user(user_id, None, Vec::new());
    // Filed under the account's first role's unit, so the admins above it see it;
    // parents' rows have no unit.
    let unit_id = role_grant::Entity::find()
        .filter(role_grant::Column::UserId.eq(user_id))
        .order_by_asc(role_grant::Column::Id)
        .one(conn)
        .await?
        .map(|g| g.unit_id);
    audit::record(
        conn,
        &me,
        Entry {
            unit_id,
            entity: "user_account",
            entity_id: Some(user_id.to_string()),
            action,
            before: None,
            after: None,
        },
    )
    .await
}

#[derive(Debug, Clone)]
pub struct Session {
    pub scope: Scope,
    pub principal: Principal,
    pub csrf_token: String,
}

#[derive(FromQueryResult)]
struct SessionJoin {
    user_id: i64,
    display_name: String,
    guardian_id: Option<i64>,
    csrf_token: String,
}

/// The scope of a live session cookie, or `None`.
pub async fn session(db: &Db, token: &str) -> StoreResult<Option<Session>> {
    let row = SessionJoin::find_by_statement(Statement::from_sql_and_values(
        db.db_backend(),
        "SELECT s.user_id, u.display_name, u.guardian_id, s.csrf_token FROM web_session s JOIN user_account u ON u.id = s.user_id \
         WHERE s.id = $1 AND s.expires_at > $2 AND u.active = $3",
        [sha256_hex(token).into(), Utc::now().into(), true.into()],
    ))
    .one(&db.conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let scope = scope_for_user(&db.conn, r.user_id, r.guardian_id).await?;
    Ok(Some(Session {
        scope,
        principal: Principal {
            user_id: r.user_id,
            display_name: r.display_name,
            guardian_id: r.guardian_id,
        },
        csrf_token: r.csrf_token,
    }))
}

pub async fn end_session(db: &Db, token: &str) -> StoreResult<()> {
    let txn = db.begin().await?;
    if let Some(sess) = web_session::Entity::find_by_id(sha256_hex(token))
        .one(&txn)
        .await?
    {
        web_session::Entity::delete_by_id(sess.id)
            .exec(&txn)
            .await?;
        audit_own(&txn, sess.user_id, "logout").await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Creates an API token for the caller's own account; the token is shown once.
pub async fn create_api_token(db: &Db, user_id: i64, name: &str) -> StoreResult<String> {
    let token = format!("jx_{}", random_token());
    let txn = db.begin().await?;
    api_token::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.to_owned()),
        token_hash: Set(sha256_hex(&token)),
        created_at: Set(Utc::now()),
        revoked: Set(false),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit_own(&txn, user_id, "create_api_token").await?;
    txn.commit().await?;
    Ok(token)
}

/// Bearer tokens verified recently, by SHA-256, so that a request with a known token
/// costs no lookup. Entries live [`TokenCache::TTL`]: another process's revocation, a
/// deactivated account or a changed role is seen within that time; a revocation in this
/// process drops the token at once ([`TokenCache::forget`]). The check-in service fills
/// it with the tokens of a session's invited parents when it loads the session
/// ([`preload_parent_tokens`]), so a burst of parents, each sending their own token once,
/// does not make one token lookup per check-in.
#[derive(Clone, Default)]
pub struct TokenCache {
    map: std::sync::Arc<std::sync::RwLock<std::collections::HashMap<String, Verified>>>,
}

/// A token's scope and owner, and when they were read from the database.
type Verified = (Scope, Principal, std::time::Instant);

impl TokenCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(30);
    /// Past this many entries the cache drops what is stale, then starts over, rather
    /// than grow without bound.
    const MAX: usize = 500_000;

    fn get_hash(&self, hash: &str) -> Option<(Scope, Principal)> {
        let map = self.map.read().ok()?;
        map.get(hash)
            .filter(|(_, _, at)| at.elapsed() < Self::TTL)
            .map(|(s, p, _)| (s.clone(), p.clone()))
    }

    fn put_all(&self, entries: impl IntoIterator<Item = (String, Scope, Principal)>) {
        if let Ok(mut map) = self.map.write() {
            let now = std::time::Instant::now();
            for (hash, scope, principal) in entries {
                if map.len() >= Self::MAX {
                    map.retain(|_, (_, _, at)| at.elapsed() < Self::TTL);
                    if map.len() >= Self::MAX {
                        map.clear();
                    }
                }
                map.insert(hash, (scope, principal, now));
            }
        }
    }

    /// Forgets a token (after it was revoked in this process).
    pub fn forget(&self, token: &str) {
        if let Ok(mut map) = self.map.write() {
            map.remove(&sha256_hex(token));
        }
    }
}

/// [`token_session`] through the cache.
pub async fn token_session_cached(
    db: &Db,
    cache: &TokenCache,
    token: &str,
) -> StoreResult<Option<(Scope, Principal)>> {
    let hash = sha256_hex(token);
    if let Some(hit) = cache.get_hash(&hash) {
        return Ok(Some(hit));
    }
    let found = token_session(db, token).await?;
    if let Some((scope, principal)) = &found {
        cache.put_all([(hash, scope.clone(), principal.clone())]);
    }
    Ok(found)
}

/// Verifies the live API tokens of every parent invited to a session in one query and
/// puts them into `cache`; returns how many. Called by the check-in service when it
/// loads a session: the parents about to check in are exactly these.
pub(crate) async fn preload_parent_tokens<C: ConnectionTrait>(
    conn: &C,
    cache: &TokenCache,
    session_id: i64,
) -> StoreResult<usize> {
    #[derive(FromQueryResult)]
    struct Row {
        token_hash: String,
        user_id: i64,
        display_name: String,
        guardian_id: Option<i64>,
        role: Option<String>,
        unit_id: Option<i64>,
    }
    let sql = format!(
        "SELECT t.token_hash, u.id AS user_id, u.display_name, u.guardian_id, g.role, g.unit_id \
         FROM api_token t JOIN user_account u ON u.id = t.user_id LEFT JOIN role_grant g ON g.user_id = u.id \
         WHERE t.revoked = $2 AND u.active = $3 AND u.guardian_id IN ({}) ORDER BY t.token_hash",
        crate::parent_school::sessions::invited_guardians_sql("$1")
    );
    let rows = Row::find_by_statement(Statement::from_sql_and_values(
        conn.get_database_backend(),
        sql,
        [session_id.into(), false.into(), true.into()],
    ))
    .all(conn)
    .await?;
    let mut out: Vec<(String, Scope, Principal)> = Vec::new();
    let mut grants: Vec<Grant> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if let (Some(role), Some(unit_id)) =
            (r.role.as_deref().and_then(Role::from_code), r.unit_id)
        {
            grants.push(Grant { unit_id, role });
        }
        let last_of_token = rows.get(i + 1).is_none_or(|n| n.token_hash != r.token_hash);
        if last_of_token {
            out.push((
                r.token_hash.clone(),
                Scope::for_user(r.user_id, r.guardian_id, std::mem::take(&mut grants)),
                Principal {
                    user_id: r.user_id,
                    display_name: r.display_name.clone(),
                    guardian_id: r.guardian_id,
                },
            ));
        }
    }
    let n = out.len();
    cache.put_all(out);
    Ok(n)
}

/// The scope of a bearer token, or `None`. One query (the token, its account and the
/// account's roles): it runs once per request of every program, and on a check-in burst
/// once per check-in.
pub async fn token_session(db: &Db, token: &str) -> StoreResult<Option<(Scope, Principal)>> {
    #[derive(FromQueryResult)]
    struct Row {
        user_id: i64,
        display_name: String,
        guardian_id: Option<i64>,
        role: Option<String>,
        unit_id: Option<i64>,
    }
    let rows = Row::find_by_statement(Statement::from_sql_and_values(
        db.db_backend(),
        "SELECT t.user_id, u.display_name, u.guardian_id, g.role, g.unit_id FROM api_token t \
         JOIN user_account u ON u.id = t.user_id LEFT JOIN role_grant g ON g.user_id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked = $2 AND u.active = $3",
        [sha256_hex(token).into(), false.into(), true.into()],
    ))
    .all(&db.conn)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let principal = Principal {
        user_id: first.user_id,
        display_name: first.display_name.clone(),
        guardian_id: first.guardian_id,
    };
    let grants = rows
        .iter()
        .filter_map(|r| {
            Some(Grant {
                unit_id: r.unit_id?,
                role: Role::from_code(r.role.as_deref()?)?,
            })
        })
        .collect();
    Ok(Some((
        Scope::for_user(principal.user_id, principal.guardian_id, grants),
        principal,
    )))
}

pub async fn change_password(db: &Db, scope: &Scope, old: &str, new: &str) -> StoreResult<()> {
    let user_id = scope.user_id().ok_or(StoreError::NotFound)?;
    check_password_rules(new)?;
    let user = user_account::Entity::find_by_id(user_id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let ok = user
        .password_hash
        .as_deref()
        .map(|h| verify_password(old, h))
        .unwrap_or(false);
    if !ok {
        return Err(StoreError::Invalid {
            code: "wrong_password",
        });
    }
    let txn = db.begin().await?;
    set_password_in(&txn, scope, user, new, "change_password").await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub staff_id: Option<i64>,
    pub grants: Vec<(Role, i64)>,
}

/// Creates a staff account with roles; the caller must be allowed to grant each role
/// at each node.
pub async fn create_user(db: &Db, scope: &Scope, u: NewUser) -> StoreResult<i64> {
    check_password_rules(&u.password)?;
    let username = u.username.trim().to_owned();
    if username.is_empty() || username.chars().any(char::is_whitespace) {
        return Err(StoreError::Invalid {
            code: "bad_username",
        });
    }
    let hash = hash_password(&u.password)?;
    let txn = db.begin().await?;
    let user = user_account::ActiveModel {
        username: Set(Some(username.clone())),
        phone: Set(None),
        display_name: Set(u.display_name.clone()),
        password_hash: Set(Some(hash)),
        staff_id: Set(u.staff_id),
        guardian_id: Set(None),
        active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for (role, unit) in &u.grants {
        grant_in(&txn, scope, user.id, *role, *unit).await?;
    }
    audit::record(&txn, scope, Entry {
        unit_id: u.grants.first().map(|g| g.1),
        entity: "user_account",
        entity_id: Some(user.id.to_string()),
        action: "create",
        before: None,
        after: Some(serde_json::json!({"username": username, "roles": u.grants.iter().map(|(r, n)| format!("{r}@{n}")).collect::<Vec<_>>()})),
    }).await?;
    txn.commit().await?;
    Ok(user.id)
}

async fn grant_in<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    user_id: i64,
    role: Role,
    unit_id: i64,
) -> StoreResult<()> {
    let unit = crate::org::managed_unit(conn, scope, unit_id).await?;
    let kind = UnitKind::from_code(&unit.kind).ok_or(StoreError::Invalid { code: "bad_kind" })?;
    if !role.granted_at().contains(&kind) {
        return Err(StoreError::Invalid {
            code: "role_not_at_this_kind",
        });
    }
    if !scope.is_system() && !scope.manage_roles().iter().any(|r| r.may_grant(role)) {
        return Err(StoreError::Invalid {
            code: "role_not_grantable",
        });
    }
    role_grant::ActiveModel {
        user_id: Set(user_id),
        role: Set(role.code().to_owned()),
        unit_id: Set(unit_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Adds a role to an existing account the caller can see.
pub async fn grant_role(
    db: &Db,
    scope: &Scope,
    user_id: i64,
    role: Role,
    unit_id: i64,
) -> StoreResult<()> {
    let txn = db.begin().await?;
    user_account::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    grant_in(&txn, scope, user_id, role, unit_id).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(unit_id),
            entity: "role_grant",
            entity_id: Some(user_id.to_string()),
            action: "grant",
            before: None,
            after: Some(serde_json::json!({"role": role.code()})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Removes a role grant inside the caller's managed subtree.
pub async fn revoke_role(db: &Db, scope: &Scope, grant_id: i64) -> StoreResult<()> {
    let txn = db.begin().await?;
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_in_managed_subtree("unit_id", &mut values);
    values.push(grant_id.into());
    let g = role_grant::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            txn.get_database_backend(),
            format!(
                "SELECT * FROM role_grant WHERE {cond} AND id = ${}",
                values.len()
            ),
            values,
        ))
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    role_grant::Entity::delete_by_id(grant_id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(g.unit_id),
            entity: "role_grant",
            entity_id: Some(g.user_id.to_string()),
            action: "revoke",
            before: Some(serde_json::json!({"role": g.role})),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Stores a new password hash, ends every session of the account (a changed password
/// is often a stolen one) and records `action` in the audit log, inside `txn`.
async fn set_password_in<C: ConnectionTrait>(
    txn: &C,
    scope: &Scope,
    user: user_account::Model,
    new: &str,
    action: &str,
) -> StoreResult<()> {
    let uid = user.id;
    let mut am: user_account::ActiveModel = user.into();
    am.password_hash = Set(Some(hash_password(new)?));
    am.update(txn).await?;
    web_session::Entity::delete_many()
        .filter(web_session::Column::UserId.eq(uid))
        .exec(txn)
        .await?;
    audit::record(
        txn,
        scope,
        Entry {
            unit_id: None,
            entity: "user_account",
            entity_id: Some(uid.to_string()),
            action,
            before: None,
            after: None,
        },
    )
    .await
}

/// Sets a new password for an account the caller manages (or any, for the system).
pub async fn reset_password(db: &Db, scope: &Scope, username: &str, new: &str) -> StoreResult<()> {
    check_password_rules(new)?;
    let txn = db.begin().await?;
    let user = user_account::Entity::find()
        .filter(user_account::Column::Username.eq(username))
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    if !scope.is_system() {
        let mut values = Vec::new();
        let cond = scope.sql_in_managed_subtree("unit_id", &mut values);
        values.push(user.id.into());
        let n = crate::db::scalar_i64(
            &txn,
            format!(
                "SELECT COUNT(*) AS n FROM role_grant WHERE {cond} AND user_id = ${}",
                values.len()
            ),
            values,
        )
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
    }
    set_password_in(&txn, scope, user, new, "reset_password").await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct UserGrantRow {
    pub grant_id: i64,
    pub user_id: i64,
    pub username: Option<String>,
    pub display_name: String,
    pub role: String,
    pub unit_id: i64,
    pub unit_name: String,
}

/// Role grants inside the caller's managed subtree, one row per grant.
pub async fn list_grants(db: &Db, scope: &Scope, limit: u64) -> StoreResult<Vec<UserGrantRow>> {
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_in_managed_subtree("r.unit_id", &mut values);
    values.push((limit as i64).into());
    let sql = format!(
        "SELECT r.id AS grant_id, u.id AS user_id, u.username, u.display_name, r.role, r.unit_id, o.name AS unit_name \
         FROM role_grant r JOIN user_account u ON u.id = r.user_id JOIN org_unit o ON o.id = r.unit_id \
         WHERE {cond} ORDER BY o.id, r.role, u.id LIMIT ${}",
        values.len()
    );
    Ok(
        UserGrantRow::find_by_statement(Statement::from_sql_and_values(
            db.db_backend(),
            sql,
            values,
        ))
        .all(&db.conn)
        .await?,
    )
}

/// Issues fresh one-time invitation codes for guardians the caller can see and who
/// have a phone; earlier unused codes of theirs stop working. Returns (guardian id,
/// name, phone, code) for printing.
pub async fn issue_invitations(
    db: &Db,
    scope: &Scope,
    guardian_ids: &[i64],
) -> StoreResult<Vec<(i64, String, String, String)>> {
    let txn = db.begin().await?;
    let mut out = Vec::new();
    let now = Utc::now();
    for gid in guardian_ids {
        let mut values: Vec<Value> = Vec::new();
        let by_school = scope.sql_in_managed_subtree("p.school_id", &mut values);
        values.push((*gid).into());
        let n = crate::db::scalar_i64(&txn, format!("SELECT COUNT(*) AS n FROM guardianship gs JOIN pupil p ON p.id = gs.pupil_id WHERE {by_school} AND gs.guardian_id = ${}", values.len()), values).await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let g = guardian::Entity::find_by_id(*gid)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let Some(phone) = g.phone.clone() else {
            continue;
        };
        invitation::Entity::delete_many()
            .filter(invitation::Column::GuardianId.eq(*gid))
            .filter(invitation::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        // Eight digits: easy to type on a phone, and 10^8 guesses against a login rate limit.
        let code = format!("{:08}", rand::rng().random_range(0..100_000_000u32));
        invitation::ActiveModel {
            guardian_id: Set(*gid),
            code_hash: Set(sha256_hex(&format!("{phone}:{code}"))),
            created_by: Set(scope.user_id()),
            created_at: Set(now),
            expires_at: Set(now + Duration::days(INVITATION_DAYS)),
            used_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        out.push((*gid, g.name, phone, code));
    }
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: None,
            entity: "invitation",
            entity_id: None,
            action: "issue",
            before: None,
            after: Some(serde_json::json!({"count": out.len()})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}

/// A parent sets their first password with the code; returns the account id.
/// Wrong phone, wrong code and expired code all answer `Invalid{invitation_invalid}`.
pub async fn redeem_invitation(
    db: &Db,
    phone: &str,
    code: &str,
    password: &str,
) -> StoreResult<i64> {
    check_password_rules(password)?;
    let invalid = StoreError::Invalid {
        code: "invitation_invalid",
    };
    let phone = PhoneNumber::parse(phone).map_err(|_| StoreError::Invalid {
        code: "invitation_invalid",
    })?;
    let txn = db.begin().await?;
    let inv = invitation::Entity::find()
        .filter(invitation::Column::CodeHash.eq(sha256_hex(&format!(
            "{}:{}",
            phone.as_str(),
            code.trim()
        ))))
        .filter(invitation::Column::UsedAt.is_null())
        .one(&txn)
        .await?
        .filter(|i| i.expires_at > Utc::now())
        .ok_or(invalid)?;
    let g = guardian::Entity::find_by_id(inv.guardian_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let hash = hash_password(password)?;
    let existing = user_account::Entity::find()
        .filter(user_account::Column::GuardianId.eq(g.id))
        .one(&txn)
        .await?;
    let uid = match existing {
        Some(u) => {
            let id = u.id;
            let mut am: user_account::ActiveModel = u.into();
            am.password_hash = Set(Some(hash));
            am.phone = Set(Some(phone.as_str().to_owned()));
            am.update(&txn).await?;
            id
        }
        None => {
            user_account::ActiveModel {
                username: Set(None),
                phone: Set(Some(phone.as_str().to_owned())),
                display_name: Set(g.name.clone()),
                password_hash: Set(Some(hash)),
                staff_id: Set(None),
                guardian_id: Set(Some(g.id)),
                active: Set(true),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?
            .id
        }
    };
    let mut am: invitation::ActiveModel = inv.into();
    am.used_at = Set(Some(Utc::now()));
    am.update(&txn).await?;
    let sys = Scope::for_user(uid, Some(g.id), Vec::new());
    audit::record(
        &txn,
        &sys,
        Entry {
            unit_id: None,
            entity: "invitation",
            entity_id: Some(g.id.to_string()),
            action: "redeem",
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(uid)
}

/// Records a message in the outbox of the log-only SMS provider.
pub async fn record_sms(db: &Db, phone: &str, body: &str) -> StoreResult<i64> {
    Ok(sms_outbox::ActiveModel {
        phone: Set(phone.to_owned()),
        body: Set(body.to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&db.conn)
    .await?
    .id)
}

/// Creates (or finds) the account of a guardian with a known password, for demo data
/// and the operator's `user create --parent`.
pub async fn ensure_parent_account<C: ConnectionTrait>(
    conn: &C,
    guardian_id: i64,
    phone: &str,
    display_name: &str,
    password_hash: &str,
) -> StoreResult<i64> {
    if let Some(u) = user_account::Entity::find()
        .filter(user_account::Column::GuardianId.eq(guardian_id))
        .one(conn)
        .await?
    {
        return Ok(u.id);
    }
    Ok(user_account::ActiveModel {
        username: Set(None),
        phone: Set(Some(phone.to_owned())),
        display_name: Set(display_name.to_owned()),
        password_hash: Set(Some(password_hash.to_owned())),
        staff_id: Set(None),
        guardian_id: Set(Some(guardian_id)),
        active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?
    .id)
}

/// Account id by username, for the CLI.
pub async fn user_id_by_name(db: &Db, username: &str) -> StoreResult<i64> {
    user_account::Entity::find()
        .filter(user_account::Column::Username.eq(username))
        .one(&db.conn)
        .await?
        .map(|u| u.id)
        .ok_or(StoreError::NotFound)
}

/// Account id by phone, for the CLI and load scripts.
pub async fn user_id_by_phone(db: &Db, phone: &str) -> StoreResult<i64> {
    user_account::Entity::find()
        .filter(user_account::Column::Phone.eq(phone))
        .one(&db.conn)
        .await?
        .map(|u| u.id)
        .ok_or(StoreError::NotFound)
}

/// Parents with a mobile number but no password yet, with a child under `under` (a node
/// the caller manages): the ones who still need an invitation code.
pub async fn guardians_without_account(
    db: &Db,
    scope: &Scope,
    under: i64,
) -> StoreResult<Vec<i64>> {
    crate::org::managed_unit(&db.conn, scope, under).await?;
    let today = crate::today();
    let year = crate::org::current_school_year(&db.conn).await?;
    #[derive(FromQueryResult)]
    struct Id {
        id: i64,
    }
    let sql = "SELECT DISTINCT g.id FROM guardian g JOIN guardianship gs ON gs.guardian_id = g.id \
               JOIN pupil p ON p.id = gs.pupil_id \
               LEFT JOIN class_membership cm ON cm.pupil_id = p.id AND cm.school_year_id = $3 \
               WHERE g.phone IS NOT NULL \
                 AND NOT EXISTS (SELECT 1 FROM user_account a WHERE a.guardian_id = g.id AND a.password_hash IS NOT NULL) \
                 AND (p.school_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1 AND valid_from <= $2 AND valid_to > $2) \
                   OR cm.class_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1 AND valid_from <= $2 AND valid_to > $2)) \
               ORDER BY g.id";
    Ok(Id::find_by_statement(Statement::from_sql_and_values(
        db.db_backend(),
        sql,
        [under.into(), today.into(), year.into()],
    ))
    .all(&db.conn)
    .await?
    .into_iter()
    .map(|r| r.id)
    .collect())
}

/// Revokes an API token by its value; false when no live token matched.
pub async fn revoke_api_token(db: &Db, token: &str) -> StoreResult<bool> {
    let txn = db.begin().await?;
    let Some(t) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(sha256_hex(token)))
        .filter(api_token::Column::Revoked.eq(false))
        .one(&txn)
        .await?
    else {
        return Ok(false);
    };
    let user_id = t.user_id;
    let mut am: api_token::ActiveModel = t.into();
    am.revoked = Set(true);
    am.update(&txn).await?;
    audit_own(&txn, user_id, "revoke_api_token").await?;
    txn.commit().await?;
    Ok(true)
}

/// An API token for every parent of a school, creating a password-less account for
/// parents who have none, for load tests and the operator's scripts (`jiaxiao user
/// tokens`): one transaction, no Argon2 (tokens are random, stored as SHA-256), one audit
/// row for the lot. The caller must manage the school. Returns (guardian id, token) by
/// guardian id; the tokens are shown only here.
pub async fn bulk_parent_tokens(
    db: &Db,
    scope: &Scope,
    school_id: i64,
    name: &str,
) -> StoreResult<Vec<(i64, String)>> {
    #[derive(FromQueryResult)]
    struct G {
        id: i64,
        name: String,
        phone: Option<String>,
        user_id: Option<i64>,
    }
    let txn = db.begin().await?;
    crate::org::managed_unit(&txn, scope, school_id).await?;
    let sql = "SELECT g.id, g.name, g.phone, u.id AS user_id FROM guardian g \
               LEFT JOIN user_account u ON u.guardian_id = g.id \
               WHERE g.id IN (SELECT gs.guardian_id FROM guardianship gs JOIN pupil p ON p.id = gs.pupil_id WHERE p.school_id = $1) \
               ORDER BY g.id";
    let stmt = Statement::from_sql_and_values(txn.get_database_backend(), sql, [school_id.into()]);
    let parents = G::find_by_statement(stmt.clone()).all(&txn).await?;
    let now = Utc::now();
    let missing: Vec<&G> = parents.iter().filter(|g| g.user_id.is_none()).collect();
    for chunk in missing.chunks(1000) {
        user_account::Entity::insert_many(chunk.iter().map(|g| user_account::ActiveModel {
            username: Set(None),
            phone: Set(g.phone.clone()),
            display_name: Set(g.name.clone()),
            password_hash: Set(None),
            staff_id: Set(None),
            guardian_id: Set(Some(g.id)),
            active: Set(true),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    let created = missing.len();
    let parents = if created == 0 {
        parents
    } else {
        G::find_by_statement(stmt).all(&txn).await?
    };
    let mut out = Vec::with_capacity(parents.len());
    for chunk in parents.chunks(1000) {
        let mut models = Vec::with_capacity(chunk.len());
        for g in chunk {
            let token = format!("jx_{}", random_token());
            models.push(api_token::ActiveModel {
                user_id: Set(g.user_id.ok_or(StoreError::NotFound)?),
                name: Set(name.to_owned()),
                token_hash: Set(sha256_hex(&token)),
                created_at: Set(now),
                revoked: Set(false),
                ..Default::default()
            });
            out.push((g.id, token));
        }
        api_token::Entity::insert_many(models)
            .exec_without_returning(&txn)
            .await?;
    }
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(school_id),
            entity: "api_token",
            entity_id: None,
            action: "bulk_parent_tokens",
            before: None,
            after: Some(serde_json::json!({
                "tokens": out.len(),
                "accounts_created": created,
                "name": name,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}
