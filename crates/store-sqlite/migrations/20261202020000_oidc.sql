-- OIDC sign-in: the identities (issuer and subject) linked to accounts, keyed by the sha256 of
-- the pair, and the sign-ins begun at a provider, keyed by the sha256 of their `state` (kept
-- here, not in any one server, so that the callback may reach another instance; single use).

CREATE TABLE oidc_links (
    id         TEXT PRIMARY KEY NOT NULL,
    user_login TEXT NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL
);
CREATE INDEX oidc_links_by_user ON oidc_links (user_login, id);

CREATE TABLE oidc_requests (
    id   TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
);
