//! Accounts and the authentication that turns a credential into a [`Scope`]: staff by
//! username + password, parents by phone + password (first set through a one-time
//! invitation code), server-side sessions and API bearer tokens. Secrets are stored
//! only as hashes: Argon2id for passwords, SHA-256 for random tokens and codes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{Duration, Utc};
use jiaxiao_domain::api::{self as api_scopes, ApiScope};
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
/// The default lifetime of an API token (`api_token_days` in the configuration). Tokens
/// made before tokens had an expiry run out this long after they were created.
pub const API_TOKEN_DAYS: i64 = 90;
/// How long the log-only SMS provider keeps a message in `sms_outbox`.
pub const SMS_OUTBOX_DAYS: i64 = 7;
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
    /// What the API token of the request may do; `None` for a page session and for a
    /// token of the account's whole reach.
    pub token_scopes: Option<Vec<ApiScope>>,
}

pub(crate) async fn scope_for_user<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    guardian_id: Option<i64>,
) -> StoreResult<Scope> {
    let (grants, _) = grants_of(conn, user_id).await?;
    Ok(Scope::for_user(user_id, guardian_id, grants))
}

/// A unit the user holds a staff role at, named: the page header's unit switcher lists
/// them (issue 10 item 21).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantedUnit {
    pub id: i64,
    pub name: String,
    pub kind: UnitKind,
}

#[derive(FromQueryResult)]
struct GrantJoin {
    unit_id: i64,
    role: String,
    name: String,
    kind: String,
}

/// The user's grants and, from the same read, the units of their staff roles (each once,
/// top of the tree first): the header names them on every page without a query of its own.
async fn grants_of<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
) -> StoreResult<(Vec<Grant>, Vec<GrantedUnit>)> {
    let rows = GrantJoin::find_by_statement(Statement::from_sql_and_values(
        conn.get_database_backend(),
        "SELECT g.unit_id, g.role, u.name, u.kind FROM role_grant g JOIN org_unit u ON u.id = g.unit_id \
         WHERE g.user_id = $1 ORDER BY g.id",
        [user_id.into()],
    ))
    .all(conn)
    .await?;
    let mut grants = Vec::with_capacity(rows.len());
    let mut units: Vec<GrantedUnit> = Vec::new();
    for r in rows {
        let Some(role) = Role::from_code(&r.role) else {
            continue;
        };
        grants.push(Grant {
            unit_id: r.unit_id,
            role,
        });
        if role == Role::Parent || units.iter().any(|u| u.id == r.unit_id) {
            continue;
        }
        if let Some(kind) = UnitKind::from_code(&r.kind) {
            units.push(GrantedUnit {
                id: r.unit_id,
                name: r.name,
                kind,
            });
        }
    }
    units.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| a.name.cmp(&b.name)));
    Ok((grants, units))
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
    /// The units of the user's staff roles, for the header (`GrantedUnit`).
    pub units: Vec<GrantedUnit>,
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
    let (grants, units) = grants_of(&db.conn, r.user_id).await?;
    Ok(Some(Session {
        scope: Scope::for_user(r.user_id, r.guardian_id, grants),
        units,
        principal: Principal {
            user_id: r.user_id,
            display_name: r.display_name,
            guardian_id: r.guardian_id,
            token_scopes: None,
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

/// Creates an API token for the caller's own account, valid for `lifetime`, with the
/// account's whole reach; the token is shown once.
pub async fn create_api_token(
    db: &Db,
    user_id: i64,
    name: &str,
    lifetime: Duration,
) -> StoreResult<String> {
    let txn = db.begin().await?;
    let (_, token) = insert_token(&txn, user_id, name, lifetime, None, None).await?;
    txn.commit().await?;
    Ok(token)
}

/// What a token made on purpose (the tokens page, `POST /api/v1/tokens`) may do.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    /// At least one; never more than the token of the request that makes it may do.
    pub scopes: Vec<ApiScope>,
    /// A unit within the caller's reach the token is limited to.
    pub unit_id: Option<i64>,
    pub lifetime: Duration,
}

/// Makes a scoped token for the caller's own account: its scopes must lie within
/// `within` (the scopes of the caller's own token; `None`: a page session or a whole
/// token), its unit within the caller's reach. Returns the id and the token, shown once.
pub async fn create_scoped_token(
    db: &Db,
    scope: &Scope,
    within: Option<&[ApiScope]>,
    t: NewToken,
) -> StoreResult<(i64, String)> {
    let user_id = scope.user_id().ok_or(StoreError::NotFound)?;
    let name = jiaxiao_domain::text::clean(jiaxiao_domain::text::Field::Name, &t.name)
        .map_err(|_| StoreError::Invalid { code: "token_name" })?;
    if name.is_empty() {
        return Err(StoreError::Invalid { code: "token_name" });
    }
    if t.scopes.is_empty() || within.is_some_and(|w| t.scopes.iter().any(|s| !w.contains(s))) {
        return Err(StoreError::Invalid {
            code: "token_scopes",
        });
    }
    if !(1..=366).contains(&t.lifetime.num_days()) {
        return Err(StoreError::Invalid { code: "token_days" });
    }
    let txn = db.begin().await?;
    if let Some(unit) = t.unit_id {
        let narrowed = narrow_grants(&txn, scope.grants(), unit).await?;
        if narrowed.is_empty() {
            return Err(StoreError::Invalid { code: "token_unit" });
        }
    }
    let r = insert_token(
        &txn,
        user_id,
        &name,
        t.lifetime,
        Some(api_scopes::format_scopes(&t.scopes)),
        t.unit_id,
    )
    .await?;
    txn.commit().await?;
    Ok(r)
}

async fn insert_token<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    name: &str,
    lifetime: Duration,
    scopes: Option<String>,
    unit_id: Option<i64>,
) -> StoreResult<(i64, String)> {
    let token = format!("jx_{}", random_token());
    let now = Utc::now();
    let m = api_token::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.to_owned()),
        token_hash: Set(sha256_hex(&token)),
        created_at: Set(now),
        revoked: Set(false),
        expires_at: Set(Some(now + lifetime)),
        last_used_at: Set(None),
        scopes: Set(scopes),
        unit_id: Set(unit_id),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    audit_own(conn, user_id, "create_api_token").await?;
    Ok((m.id, token))
}

/// A token limited to `unit`: each grant at or above the unit reaches only the unit's
/// subtree (the same role, at the unit), each grant below it stays, the rest go. Read
/// on the tree as it stands today, like every scope.
async fn narrow_grants<C: ConnectionTrait>(
    conn: &C,
    grants: &[Grant],
    unit: i64,
) -> StoreResult<Vec<Grant>> {
    if grants.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(FromQueryResult)]
    struct Pair {
        ancestor_id: i64,
        descendant_id: i64,
    }
    let today = crate::today();
    let mut values: Vec<Value> = vec![unit.into(), today.clone().into(), today.into()];
    let ids: Vec<String> = grants
        .iter()
        .map(|g| {
            values.push(g.unit_id.into());
            format!("${}", values.len())
        })
        .collect();
    let ids = ids.join(", ");
    let pairs = Pair::find_by_statement(Statement::from_sql_and_values(
        conn.get_database_backend(),
        format!(
            "SELECT ancestor_id, descendant_id FROM org_closure WHERE valid_from <= $2 AND valid_to > $3 \
             AND ((descendant_id = $1 AND ancestor_id IN ({ids})) OR (ancestor_id = $1 AND descendant_id IN ({ids})))"
        ),
        values,
    ))
    .all(conn)
    .await?;
    let mut out: Vec<Grant> = grants
        .iter()
        .filter_map(|g| {
            if pairs
                .iter()
                .any(|p| p.ancestor_id == g.unit_id && p.descendant_id == unit)
            {
                Some(Grant {
                    unit_id: unit,
                    role: g.role,
                })
            } else if pairs
                .iter()
                .any(|p| p.ancestor_id == unit && p.descendant_id == g.unit_id)
            {
                Some(*g)
            } else {
                None
            }
        })
        .collect();
    out.sort_by_key(|g| (g.unit_id, g.role));
    out.dedup();
    Ok(out)
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
    used: std::sync::Arc<std::sync::Mutex<TokenUse>>,
}

/// Tokens used since `last_use` was last written, by hash. A token's use is written at
/// most once a minute, and for all tokens of the minute at once, by a task of its own:
/// a burst of parents checking in costs one small write a minute, never a write in the
/// request.
#[derive(Default)]
struct TokenUse {
    hashes: std::collections::HashSet<String>,
    last_write: Option<std::time::Instant>,
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

    /// Forgets every token of an account (its password changed, or it revoked one on
    /// its tokens page).
    pub fn forget_user(&self, user_id: i64) {
        if let Ok(mut map) = self.map.write() {
            map.retain(|_, (_, p, _)| p.user_id != user_id);
        }
    }

    /// How often the uses of tokens are written.
    pub const USE_WRITE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

    /// Notes a use; returns the batch to write when the last write is a minute old.
    fn note_use(&self, hash: &str) -> Option<Vec<String>> {
        let mut u = self.used.lock().ok()?;
        if !u.hashes.contains(hash) {
            u.hashes.insert(hash.to_owned());
        }
        let due = u
            .last_write
            .is_none_or(|at| at.elapsed() >= Self::USE_WRITE_EVERY);
        due.then(|| {
            u.last_write = Some(std::time::Instant::now());
            u.hashes.drain().collect()
        })
    }

    fn take_uses(&self) -> Vec<String> {
        match self.used.lock() {
            Ok(mut u) => u.hashes.drain().collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// Writes `last_used_at` for a batch of token hashes, 500 to a statement.
async fn write_token_uses(db: &Db, hashes: Vec<String>) -> StoreResult<()> {
    if hashes.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    for chunk in hashes.chunks(500) {
        let mut values: Vec<Value> = vec![now.into()];
        let ph: Vec<String> = chunk
            .iter()
            .map(|h| {
                values.push(h.clone().into());
                format!("${}", values.len())
            })
            .collect();
        txn.execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            format!(
                "UPDATE api_token SET last_used_at = $1 WHERE token_hash IN ({})",
                ph.join(",")
            ),
            values,
        ))
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Writes the token uses this process has noted and not yet written, now (before the
/// tokens page shows them).
pub async fn flush_token_uses(db: &Db, cache: &TokenCache) -> StoreResult<()> {
    write_token_uses(db, cache.take_uses()).await
}

/// [`token_session`] through the cache.
pub async fn token_session_cached(
    db: &Db,
    cache: &TokenCache,
    token: &str,
) -> StoreResult<Option<(Scope, Principal)>> {
    let hash = sha256_hex(token);
    let found = match cache.get_hash(&hash) {
        Some(hit) => Some(hit),
        None => {
            let found = token_session(db, token).await?;
            if let Some((scope, principal)) = &found {
                cache.put_all([(hash.clone(), scope.clone(), principal.clone())]);
            }
            found
        }
    };
    if found.is_some()
        && let Some(batch) = cache.note_use(&hash)
    {
        let db = db.clone();
        // Not awaited: the request does not wait for bookkeeping, and a failed write
        // loses only a "last used" time.
        tokio::spawn(async move {
            if let Err(e) = write_token_uses(&db, batch).await {
                tracing::warn!(error = %e, "writing token uses failed");
            }
        });
    }
    Ok(found)
}

/// The SQL condition of a token that has not run out: `$now` and `$legacy_cutoff` (now
/// minus [`API_TOKEN_DAYS`], for tokens made before they had an expiry) are placeholders.
fn token_live_sql(t: &str, now: &str, legacy_cutoff: &str) -> String {
    format!(
        "({t}.expires_at > {now} OR ({t}.expires_at IS NULL AND {t}.created_at > {legacy_cutoff}))"
    )
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
        scopes: Option<String>,
    }
    let sql = format!(
        "SELECT t.token_hash, u.id AS user_id, u.display_name, u.guardian_id, g.role, g.unit_id, t.scopes \
         FROM api_token t JOIN user_account u ON u.id = t.user_id LEFT JOIN role_grant g ON g.user_id = u.id \
         WHERE t.revoked = $2 AND u.active = $3 AND t.unit_id IS NULL AND {} AND u.guardian_id IN ({}) \
         ORDER BY t.token_hash",
        token_live_sql("t", "$4", "$5"),
        crate::parent_school::sessions::invited_guardians_sql(conn.get_database_backend(), "$1")
    );
    let now = Utc::now();
    let rows = Row::find_by_statement(Statement::from_sql_and_values(
        conn.get_database_backend(),
        sql,
        [
            session_id.into(),
            false.into(),
            true.into(),
            now.into(),
            (now - Duration::days(API_TOKEN_DAYS)).into(),
        ],
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
                    token_scopes: r.scopes.as_deref().map(api_scopes::parse_scopes),
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
/// once per check-in. A token limited to a unit has its grants narrowed to that unit's
/// subtree (a second query, for those tokens only).
pub async fn token_session(db: &Db, token: &str) -> StoreResult<Option<(Scope, Principal)>> {
    #[derive(FromQueryResult)]
    struct Row {
        user_id: i64,
        display_name: String,
        guardian_id: Option<i64>,
        role: Option<String>,
        unit_id: Option<i64>,
        scopes: Option<String>,
        limit_unit: Option<i64>,
    }
    let now = Utc::now();
    let rows = Row::find_by_statement(Statement::from_sql_and_values(
        db.db_backend(),
        format!(
            "SELECT t.user_id, u.display_name, u.guardian_id, g.role, g.unit_id, t.scopes, t.unit_id AS limit_unit \
             FROM api_token t \
             JOIN user_account u ON u.id = t.user_id LEFT JOIN role_grant g ON g.user_id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked = $2 AND u.active = $3 AND {}",
            token_live_sql("t", "$4", "$5")
        ),
        [
            sha256_hex(token).into(),
            false.into(),
            true.into(),
            now.into(),
            (now - Duration::days(API_TOKEN_DAYS)).into(),
        ],
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
        token_scopes: first.scopes.as_deref().map(api_scopes::parse_scopes),
    };
    let mut grants: Vec<Grant> = rows
        .iter()
        .filter_map(|r| {
            Some(Grant {
                unit_id: r.unit_id?,
                role: Role::from_code(r.role.as_deref()?)?,
            })
        })
        .collect();
    if let Some(unit) = first.limit_unit {
        grants = narrow_grants(&db.conn, &grants, unit).await?;
    }
    Ok(Some((
        Scope::for_user(principal.user_id, principal.guardian_id, grants),
        principal,
    )))
}

/// The caller changes their own password. Every other session of the account ends and
/// every API token of it is revoked; `current_session` (the cookie of the request, if
/// any) stays logged in.
pub async fn change_password(
    db: &Db,
    scope: &Scope,
    old: &str,
    new: &str,
    current_session: Option<&str>,
) -> StoreResult<()> {
    let user_id = scope.user_id().ok_or(StoreError::NotFound)?;
    check_password_rules(new)?;
    let user = user_account::Entity::find_by_id(user_id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let (old, hash) = (old.to_owned(), user.password_hash.clone());
    // Argon2 takes tens of milliseconds of CPU: off the async threads, as at login.
    let ok = tokio::task::spawn_blocking(move || {
        hash.as_deref().is_some_and(|h| verify_password(&old, h))
    })
    .await
    .map_err(|e| StoreError::Other(e.to_string()))?;
    if !ok {
        return Err(StoreError::Invalid {
            code: "wrong_password",
        });
    }
    let txn = db.begin().await?;
    set_password_in(&txn, scope, user, new, "change_password", current_session).await?;
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
///
/// The nodes are checked first: a node outside the caller's reach is `NotFound`
/// whatever else the form holds, exactly like a node that does not exist. A username
/// that is malformed or taken anywhere is `Invalid{username_unavailable}`, one answer
/// for both, and the web throttles how often an administrator may get it: usernames
/// are global (people log in with them), so whether one is free cannot be hidden, only
/// kept from being a cheap way to list the accounts of other counties.
pub async fn create_user(db: &Db, scope: &Scope, u: NewUser) -> StoreResult<i64> {
    let rules = check_password_rules(&u.password);
    // Argon2 before the write transaction, which on SQLite holds the database's lock.
    let hash = match rules {
        Ok(()) => Some(hash_password(&u.password)?),
        Err(_) => None,
    };
    let username = u.username.trim().to_owned();
    let unavailable = StoreError::Invalid {
        code: "username_unavailable",
    };
    let txn = db.begin().await?;
    for (role, unit) in &u.grants {
        check_grant(&txn, scope, *role, *unit).await?;
    }
    rules?;
    if username.is_empty() || username.chars().any(char::is_whitespace) {
        return Err(unavailable);
    }
    let taken = user_account::Entity::find()
        .filter(user_account::Column::Username.eq(username.as_str()))
        .one(&txn)
        .await?
        .is_some();
    if taken {
        return Err(unavailable);
    }
    let hash = hash.ok_or(StoreError::Other("password hash missing".into()))?;
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

/// Adds `role` at `unit_id` to an account; the caller's right to grant it is checked
/// first, and a grant the account already holds is refused by name (`grant_exists`)
/// rather than left to the UNIQUE constraint, so the form can say what is wrong.
async fn grant_in<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    user_id: i64,
    role: Role,
    unit_id: i64,
) -> StoreResult<crate::org::UnitRow> {
    let unit = check_grant(conn, scope, role, unit_id).await?;
    let held = role_grant::Entity::find()
        .filter(role_grant::Column::UserId.eq(user_id))
        .filter(role_grant::Column::Role.eq(role.code()))
        .filter(role_grant::Column::UnitId.eq(unit_id))
        .one(conn)
        .await?
        .is_some();
    if held {
        return Err(StoreError::Invalid {
            code: "grant_exists",
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
    Ok(unit)
}

/// Whether the caller may grant `role` at `unit_id`: the node first (`NotFound` outside
/// the caller's managed subtree), then the role's kind and the caller's right to grant it.
async fn check_grant<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    role: Role,
    unit_id: i64,
) -> StoreResult<crate::org::UnitRow> {
    let unit = crate::org::managed_unit(conn, scope, unit_id).await?;
    let kind = UnitKind::from_code(&unit.kind).ok_or(StoreError::Invalid { code: "bad_kind" })?;
    if !role.granted_at().contains(&kind) {
        return Err(StoreError::Invalid {
            code: "role_not_at_this_kind",
        });
    }
    check_may_grant(scope, role)?;
    Ok(unit)
}

/// Whether the caller's own roles let them grant (and so revoke) `role`.
fn check_may_grant(scope: &Scope, role: Role) -> StoreResult<()> {
    if !scope.is_system() && !scope.manage_roles().iter().any(|r| r.may_grant(role)) {
        return Err(StoreError::Invalid {
            code: "role_not_grantable",
        });
    }
    Ok(())
}

/// Whether the account holds a grant inside the caller's managed subtree: the accounts
/// a caller may manage (any account with a grant, for the system).
async fn account_in_reach<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    account_id: i64,
) -> StoreResult<bool> {
    let mut values: Vec<Value> = Vec::new();
    let cond = scope.sql_in_managed_subtree("unit_id", &mut values);
    values.push(account_id.into());
    let n = crate::db::scalar_i64(
        conn,
        format!(
            "SELECT COUNT(*) AS n FROM role_grant WHERE {cond} AND user_id = ${}",
            values.len()
        ),
        values,
    )
    .await?;
    Ok(n > 0)
}

/// An account the caller manages: one holding a grant inside the caller's managed
/// subtree; any other is `NotFound`, like one that does not exist.
async fn managed_user<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    user_id: i64,
) -> StoreResult<user_account::Model> {
    if !account_in_reach(conn, scope, user_id).await? {
        return Err(StoreError::NotFound);
    }
    user_account::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// The name of the school above a grade or a class today, for naming the unit with its
/// path ("甲小学 三年级(2)班"); `None` for a school or an office.
async fn school_above<C: ConnectionTrait>(conn: &C, unit_id: i64) -> StoreResult<Option<String>> {
    #[derive(FromQueryResult)]
    struct Name {
        name: String,
    }
    let today = crate::today();
    Ok(Name::find_by_statement(Statement::from_sql_and_values(
        conn.get_database_backend(),
        "SELECT s.name FROM org_closure k JOIN org_unit s ON s.id = k.ancestor_id \
         WHERE k.descendant_id = $1 AND k.depth > 0 AND s.kind = $2 AND k.valid_from <= $3 AND k.valid_to > $4",
        [
            unit_id.into(),
            UnitKind::School.code().into(),
            today.clone().into(),
            today.into(),
        ],
    ))
    .one(conn)
    .await?
    .map(|r| r.name))
}

/// A unit's name with its school in front when it has one.
fn with_school(school: Option<&str>, name: &str) -> String {
    match school {
        Some(s) if !s.is_empty() => format!("{s} {name}"),
        _ => name.to_owned(),
    }
}

/// The audit summary of one grant: whose, which role, where.
async fn grant_summary<C: ConnectionTrait>(
    conn: &C,
    user: &user_account::Model,
    role: &str,
    unit: &crate::org::UnitRow,
) -> StoreResult<serde_json::Value> {
    let school = school_above(conn, unit.id).await?;
    Ok(serde_json::json!({
        "username": user.username,
        "display_name": user.display_name,
        "role": role,
        "unit_id": unit.id,
        "unit": with_school(school.as_deref(), &unit.name),
    }))
}

/// The audit summary of an account without the grant: the other side of a grant's or a
/// revocation's before/after.
fn user_summary(user: &user_account::Model) -> serde_json::Value {
    serde_json::json!({"username": user.username, "display_name": user.display_name})
}

/// Adds a role to an account the caller manages (see [`managed_user`]). A grant the
/// account already holds is `Invalid{grant_exists}`; a role at a kind of unit it is not
/// held at is `Invalid{role_not_at_this_kind}`.
pub async fn grant_role(
    db: &Db,
    scope: &Scope,
    user_id: i64,
    role: Role,
    unit_id: i64,
) -> StoreResult<()> {
    let txn = db.begin().await?;
    let user = managed_user(&txn, scope, user_id).await?;
    let unit = grant_in(&txn, scope, user_id, role, unit_id).await?;
    let after = grant_summary(&txn, &user, role.code(), &unit).await?;
    audit::record(
        &txn,
        scope,
        Entry {
            unit_id: Some(unit_id),
            entity: "role_grant",
            entity_id: Some(user_id.to_string()),
            action: "grant",
            before: Some(user_summary(&user)),
            after: Some(after),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Removes a role grant inside the caller's managed subtree, of a role the caller may
/// grant; with `of_user`, only a grant of that account. Returns the account's id.
pub async fn revoke_role(
    db: &Db,
    scope: &Scope,
    grant_id: i64,
    of_user: Option<i64>,
) -> StoreResult<i64> {
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
        .filter(|g| of_user.is_none_or(|u| u == g.user_id))
        .ok_or(StoreError::NotFound)?;
    if let Some(role) = Role::from_code(&g.role) {
        check_may_grant(scope, role)?;
    } else if !scope.is_system() {
        return Err(StoreError::Invalid {
            code: "role_not_grantable",
        });
    }
    let user = user_account::Entity::find_by_id(g.user_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let unit = crate::org::managed_unit(&txn, scope, g.unit_id).await?;
    if Some(g.user_id) == scope.user_id()
        && Role::from_code(&g.role).is_some_and(Role::can_manage)
        && !manages_elsewhere(&txn, &g).await?
    {
        return Err(StoreError::Invalid {
            code: "last_managing_role",
        });
    }
    let before = grant_summary(&txn, &user, &g.role, &unit).await?;
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
            before: Some(before),
            after: Some(user_summary(&user)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(g.user_id)
}

/// Whether the holder of managing grant `g` keeps another grant that manages accounts at
/// its unit or above (the tree today): without one, revoking `g` themselves would leave
/// the unit's accounts with nobody of theirs to manage them.
async fn manages_elsewhere<C: ConnectionTrait>(
    conn: &C,
    g: &role_grant::Model,
) -> StoreResult<bool> {
    let mut values: Vec<Value> = vec![g.user_id.into(), g.id.into(), g.unit_id.into()];
    let roles: Vec<String> = Role::ALL
        .iter()
        .filter(|r| r.can_manage())
        .map(|r| {
            values.push(r.code().into());
            format!("${}", values.len())
        })
        .collect();
    let n = crate::db::scalar_i64(
        conn,
        format!(
            "SELECT COUNT(*) AS n FROM role_grant r WHERE r.user_id = $1 AND r.id <> $2 \
             AND r.role IN ({}) AND r.unit_id IN (SELECT c.ancestor_id FROM org_closure c \
               WHERE c.descendant_id = $3 AND {})",
            roles.join(", "),
            crate::org::in_force("c", &crate::org::today_sql())
        ),
        values,
    )
    .await?;
    Ok(n > 0)
}

/// An account as its page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountUser {
    pub id: i64,
    pub username: Option<String>,
    pub display_name: String,
    pub active: bool,
}

/// One of an account's grants, its unit named with its school.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct GrantDetail {
    pub grant_id: i64,
    pub role: String,
    pub unit_id: i64,
    pub unit_kind: String,
    pub unit_name: String,
    pub school_name: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
}

impl GrantDetail {
    /// "甲小学 三年级(2)班" for a class, the name alone for a school or an office.
    pub fn unit_label(&self) -> String {
        with_school(self.school_name.as_deref(), &self.unit_name)
    }
}

/// An account the caller manages and its grants inside the caller's managed subtree,
/// oldest first: one read of the grants, their units and the school above each.
/// Grants elsewhere in the tree are not the caller's business and are left out.
pub async fn account_with_grants(
    db: &Db,
    scope: &Scope,
    user_id: i64,
) -> StoreResult<(AccountUser, Vec<GrantDetail>)> {
    let today = crate::today();
    let mut values: Vec<Value> = vec![
        UnitKind::School.code().into(),
        today.clone().into(),
        today.into(),
        user_id.into(),
    ];
    let cond = scope.sql_in_managed_subtree("r.unit_id", &mut values);
    let sql = format!(
        "SELECT r.id AS grant_id, r.role, r.unit_id, o.kind AS unit_kind, o.name AS unit_name, \
           (SELECT s.name FROM org_closure k JOIN org_unit s ON s.id = k.ancestor_id \
             WHERE k.descendant_id = o.id AND k.depth > 0 AND s.kind = $1 AND k.valid_from <= $2 AND k.valid_to > $3) AS school_name, \
           r.created_at \
         FROM role_grant r JOIN org_unit o ON o.id = r.unit_id \
         WHERE r.user_id = $4 AND {cond} ORDER BY r.created_at, r.id"
    );
    let grants = GrantDetail::find_by_statement(Statement::from_sql_and_values(
        db.db_backend(),
        sql,
        values,
    ))
    .all(&db.conn)
    .await?;
    if grants.is_empty() {
        return Err(StoreError::NotFound);
    }
    let u = user_account::Entity::find_by_id(user_id)
        .one(&db.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok((
        AccountUser {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            active: u.active,
        },
        grants,
    ))
}

/// A unit of the caller's managed subtree placed in the tree, for the unit choice of
/// the accounts forms.
#[derive(Debug, Clone, Serialize)]
pub struct TreeUnit {
    pub id: i64,
    pub kind: UnitKind,
    pub name: String,
    /// Steps below the top of the caller's subtree (0 for a root).
    pub depth: usize,
    /// The school above a grade or a class.
    pub school: Option<String>,
}

impl TreeUnit {
    /// The name with its school in front, for a grade or a class.
    pub fn label(&self) -> String {
        with_school(self.school.as_deref(), &self.name)
    }
}

/// Every unit of the caller's managed subtree today in tree order — each unit followed
/// by its children: offices and schools by name, grades by their level (一, 二, 三 … not
/// the character order 一, 三, 二), classes by number. One read; the order is made here.
pub async fn managed_tree(db: &Db, scope: &Scope) -> StoreResult<Vec<TreeUnit>> {
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        parent_id: Option<i64>,
        kind: String,
        name: String,
        grade_level: Option<i32>,
        class_number: Option<i32>,
    }
    let today = crate::today();
    let mut values: Vec<Value> = vec![today.clone().into(), today.into()];
    let cond = scope.sql_in_managed_subtree("u.id", &mut values);
    // The parent as the tree stands today: `org_unit.parent_id` may already hold the
    // parent of a move dated later.
    let sql = format!(
        "SELECT u.id, c.ancestor_id AS parent_id, u.kind, u.name, u.grade_level, u.class_number \
         FROM org_unit u LEFT JOIN org_closure c ON c.descendant_id = u.id AND c.depth = 1 \
           AND c.valid_from <= $1 AND c.valid_to > $2 \
         WHERE {cond}"
    );
    let rows = Row::find_by_statement(Statement::from_sql_and_values(db.db_backend(), sql, values))
        .all(&db.conn)
        .await?;
    let nodes: Vec<(UnitKind, Row)> = rows
        .into_iter()
        .filter_map(|r| UnitKind::from_code(&r.kind).map(|k| (k, r)))
        .collect();
    let present: std::collections::HashSet<i64> = nodes.iter().map(|(_, r)| r.id).collect();
    let mut children: std::collections::HashMap<Option<i64>, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, (_, r)) in nodes.iter().enumerate() {
        // A unit whose parent is outside the caller's subtree is one of its tops.
        let parent = r.parent_id.filter(|p| present.contains(p));
        children.entry(parent).or_default().push(i);
    }
    let key = |i: &usize| {
        let (k, r) = &nodes[*i];
        (
            UnitKind::ALL.iter().position(|x| x == k),
            r.grade_level.unwrap_or(i32::MAX),
            r.class_number.unwrap_or(i32::MAX),
            r.name.clone(),
            r.id,
        )
    };
    for list in children.values_mut() {
        list.sort_by_key(key);
    }
    let mut out = Vec::with_capacity(nodes.len());
    // Depth-first, children in order: (index, depth, school above).
    let mut stack: Vec<(usize, usize, Option<String>)> = children
        .get(&None)
        .map(|tops| tops.iter().rev().map(|i| (*i, 0, None)).collect())
        .unwrap_or_default();
    while let Some((i, depth, school)) = stack.pop() {
        let (kind, r) = &nodes[i];
        let below_school = if *kind == UnitKind::School {
            Some(r.name.clone())
        } else {
            school.clone()
        };
        if let Some(list) = children.get(&Some(r.id)) {
            for c in list.iter().rev() {
                stack.push((*c, depth + 1, below_school.clone()));
            }
        }
        out.push(TreeUnit {
            id: r.id,
            kind: *kind,
            name: r.name.clone(),
            depth,
            school: matches!(kind, UnitKind::Grade | UnitKind::Class)
                .then_some(school)
                .flatten(),
        });
    }
    Ok(out)
}

/// Stores a new password hash, ends every session of the account but `keep_session`
/// and revokes every API token of it (a changed password is often a stolen one: whoever
/// stole it may have logged in or made a token with it), and records `action` in the
/// audit log, inside `txn`.
async fn set_password_in<C: ConnectionTrait>(
    txn: &C,
    scope: &Scope,
    user: user_account::Model,
    new: &str,
    action: &str,
    keep_session: Option<&str>,
) -> StoreResult<()> {
    let uid = user.id;
    let mut am: user_account::ActiveModel = user.into();
    am.password_hash = Set(Some(hash_password(new)?));
    am.update(txn).await?;
    let mut ended = web_session::Entity::delete_many().filter(web_session::Column::UserId.eq(uid));
    if let Some(keep) = keep_session {
        ended = ended.filter(web_session::Column::Id.ne(sha256_hex(keep)));
    }
    ended.exec(txn).await?;
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::Revoked,
            sea_orm::sea_query::Expr::value(true),
        )
        .filter(api_token::Column::UserId.eq(uid))
        .filter(api_token::Column::Revoked.eq(false))
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

/// Sets a new password for an account the caller manages (or any, for the system);
/// every session and API token of the account ends. Returns the account id.
pub async fn reset_password(db: &Db, scope: &Scope, username: &str, new: &str) -> StoreResult<i64> {
    check_password_rules(new)?;
    let txn = db.begin().await?;
    let user = user_account::Entity::find()
        .filter(user_account::Column::Username.eq(username))
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    if !scope.is_system() && !account_in_reach(&txn, scope, user.id).await? {
        return Err(StoreError::NotFound);
    }
    let uid = user.id;
    set_password_in(&txn, scope, user, new, "reset_password", None).await?;
    txn.commit().await?;
    Ok(uid)
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

/// Records a message in the outbox of the log-only SMS provider, with every one of
/// `secrets` (one-time codes) masked: the outbox is a record of what was sent, not a
/// second copy of the codes, whose hashes alone are kept (a lost code is replaced by
/// issuing a new one, never sent again). Messages older than [`SMS_OUTBOX_DAYS`] go in
/// the same transaction, so no sweeper is needed.
pub async fn record_sms(db: &Db, phone: &str, body: &str, secrets: &[&str]) -> StoreResult<i64> {
    let now = Utc::now();
    let masked = secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(body.to_owned(), |b, s| {
            b.replace(s, &"*".repeat(s.chars().count()))
        });
    let txn = db.begin().await?;
    sms_outbox::Entity::delete_many()
        .filter(sms_outbox::Column::CreatedAt.lt(now - Duration::days(SMS_OUTBOX_DAYS)))
        .exec(&txn)
        .await?;
    let id = sms_outbox::ActiveModel {
        phone: Set(phone.to_owned()),
        body: Set(masked),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?
    .id;
    txn.commit().await?;
    Ok(id)
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

/// One of the caller's own API tokens, for their tokens page (never the token itself).
#[derive(Debug, Clone, Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub created_at: chrono::DateTime<Utc>,
    pub last_used_at: Option<chrono::DateTime<Utc>>,
    /// When the token runs out (for tokens made before expiry existed, computed).
    pub expires_at: chrono::DateTime<Utc>,
    /// What it may do; `None`: the account's whole reach.
    pub scopes: Option<Vec<ApiScope>>,
    /// The unit it is limited to, with its name.
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
}

/// The caller's own live API tokens (not revoked, not run out), newest first.
pub async fn list_own_tokens(db: &Db, scope: &Scope) -> StoreResult<Vec<TokenRow>> {
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        name: String,
        created_at: chrono::DateTime<Utc>,
        last_used_at: Option<chrono::DateTime<Utc>>,
        expires_at: Option<chrono::DateTime<Utc>>,
        scopes: Option<String>,
        unit_id: Option<i64>,
        unit_name: Option<String>,
    }
    let user_id = scope.user_id().ok_or(StoreError::NotFound)?;
    let now = Utc::now();
    let rows = Row::find_by_statement(Statement::from_sql_and_values(
        db.db_backend(),
        format!(
            "SELECT t.id, t.name, t.created_at, t.last_used_at, t.expires_at, t.scopes, t.unit_id, \
                    o.name AS unit_name \
             FROM api_token t LEFT JOIN org_unit o ON o.id = t.unit_id \
             WHERE t.user_id = $1 AND t.revoked = $2 AND {} ORDER BY t.id DESC",
            token_live_sql("t", "$3", "$4")
        ),
        [
            user_id.into(),
            false.into(),
            now.into(),
            (now - Duration::days(API_TOKEN_DAYS)).into(),
        ],
    ))
    .all(&db.conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t
                .expires_at
                .unwrap_or(t.created_at + Duration::days(API_TOKEN_DAYS)),
            scopes: t.scopes.as_deref().map(api_scopes::parse_scopes),
            unit_id: t.unit_id,
            unit_name: t.unit_name,
        })
        .collect())
}

/// Revokes one of the caller's own tokens by id; another account's token is `NotFound`.
pub async fn revoke_own_token(db: &Db, scope: &Scope, id: i64) -> StoreResult<()> {
    let user_id = scope.user_id().ok_or(StoreError::NotFound)?;
    let txn = db.begin().await?;
    let t = api_token::Entity::find_by_id(id)
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::Revoked.eq(false))
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut am: api_token::ActiveModel = t.into();
    am.revoked = Set(true);
    am.update(&txn).await?;
    audit_own(&txn, user_id, "revoke_api_token").await?;
    txn.commit().await?;
    Ok(())
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
                expires_at: Set(Some(now + Duration::days(API_TOKEN_DAYS))),
                last_used_at: Set(None),
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

#[cfg(test)]
mod tests {
    use super::TokenCache;

    #[test]
    fn token_uses_are_written_at_most_once_a_minute_in_one_batch() {
        let cache = TokenCache::default();
        // The first use in a process is written at once…
        assert_eq!(cache.note_use("a"), Some(vec!["a".to_owned()]));
        // …later ones wait for the minute, and are written together.
        assert_eq!(cache.note_use("b"), None);
        assert_eq!(cache.note_use("c"), None);
        assert_eq!(cache.note_use("b"), None);
        let mut pending = cache.take_uses();
        pending.sort();
        assert_eq!(pending, ["b", "c"]);
        assert!(cache.take_uses().is_empty());
    }
}
